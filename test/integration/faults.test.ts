import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../devices-sim/src/cli.js';
import type { FaultResult } from '../../devices-sim/src/faults/run.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function sim(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env: {}, cwd: ROOT };
  return { code: await main(argv, io), out, err };
}

describe('carehub-sim faults', () => {
  it('lost PUBACKs, abrupt disconnects, malformed payloads, clock skew: the hub stays healthy and raises each alert once', async () => {
    const r = await sim(['faults', '--json']);
    const result = JSON.parse(r.out) as FaultResult;
    expect(result.cases.map((c) => c.name)).toEqual([
      'lost-puback-sos',
      'lost-puback-dup-flag',
      'lost-puback-smoke',
      'abrupt-disconnects',
      'malformed-payloads',
      'device-clock-skew',
    ]);
    for (const c of result.cases) {
      expect(c.error, c.name).toBeUndefined();
      expect(
        c.checks.filter((k) => !k.ok),
        c.name,
      ).toEqual([]);
      expect(c.checks.length, c.name).toBeGreaterThan(1);
    }
    const resend = result.cases[0]?.checks.find((k) => k.what.startsWith('the hub dropped the resend'));
    expect(resend?.observed).toBe('1 duplicate(s) dropped');
    expect(result.final.map((k) => [k.what, k.ok])).toEqual([
      ['exactly one sos alert for h1, one occurrence', true],
      ['exactly one sos alert for h2, one occurrence', true],
      ['exactly one smoke alert for h3, one occurrence', true],
      ['exactly one sos alert for h3, one occurrence', true],
      ['no other alert', true],
      ['the hub is healthy and has processed everything it accepted', true],
    ]);
    expect(result.ok).toBe(true);
    expect(r.code).toBe(0);
  });

  it('targets only this machine', async () => {
    const r = await sim([
      'faults',
      '--hub-http',
      'http://192.168.1.20:8080',
      '--hub-mqtt',
      'mqtt://192.168.1.20:1883',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('fault drills target only this machine');
  });
});
