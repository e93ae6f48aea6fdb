import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type CliIo, main } from '../../devices-sim/src/cli.js';
import { loadConfigFile } from '../../hub/src/config/load.js';
import { startHub, type TestHub, tempDir } from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = tempDir('carehub-load-');
  dirs.push(d);
  return d;
}

async function sim(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env: {}, cwd: ROOT };
  return { code: await main(argv, io), out, err };
}

describe('carehub-sim gen-config', () => {
  it('writes a valid demo site with N homes × (sos, door, smoke) and one shared secret, hashed once', async () => {
    const file = join(scratch(), 'site.yaml');
    const r = await sim(['gen-config', '--homes', '50', '--out', file, '--hash-cost', '1024']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('50 homes, 150 devices');
    expect(r.out).toMatch(/checked: the hub loads it in \d+\.\d s/);
    const config = loadConfigFile(file, {});
    expect(config.demo).toBe(true);
    expect(config.homes).toHaveLength(50);
    const devices = config.homes.flatMap((h) => h.devices);
    expect(devices.map((d) => d.id).slice(0, 3)).toEqual(['h1-sos', 'h1-door', 'h1-smoke']);
    expect(new Set(devices.map((d) => d.kind))).toEqual(
      new Set(['sos_button', 'door_sensor', 'smoke_detector']),
    );
    expect(new Set(devices.map((d) => d.secretHash)).size).toBe(1);
    expect(new Set(devices.map((d) => d.demoSecret)).size).toBe(1);
    expect(config.staff.map((s) => s.id)).toEqual(['supervisor1', 'duty1']);
  });

  it('checks its options', async () => {
    const r = await sim(['gen-config', '--homes', 'many', '--out', '/tmp/x.yaml', '--hash-cost', '1000']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--homes: must be a whole number');
    expect(r.err).toContain('--hash-cost: must be a power of two');
  });
});

describe('carehub-sim load', () => {
  let t: TestHub | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('plays 300 devices in 2 worker processes against a running hub: rates, PUBACK percentiles, no errors', async () => {
    const file = join(scratch(), 'site.yaml');
    expect(
      (await sim(['gen-config', '--homes', '100', '--out', file, '--hash-cost', '1024', '--skip-check']))
        .code,
    ).toBe(0);
    t = await startHub({ raw: parseDocument(readFileSync(file, 'utf8')).toJS() as Record<string, unknown> });
    const r = await sim([
      'load',
      '--hub-mqtt',
      t.mqttUrl,
      '--hub-http',
      t.httpUrl,
      '--config',
      file,
      '--devices',
      '300',
      '--heartbeat',
      '2s',
      '--rate',
      '100',
      '--duration',
      '4s',
      '--processes',
      '2',
      '--json',
    ]);
    const result = JSON.parse(r.out) as {
      ok: boolean;
      plan: { devices: number; processes: number };
      connect: { connected: number; failures: Record<string, number> };
      traffic: {
        heartbeats: number;
        events: number;
        acknowledged: number;
        ratesPerSecond: { events: number };
      };
      pubackLatencyMs: { count: number; p50: number; p95: number; p99: number; max: number };
      errors: Record<string, number>;
      workerFailures: string[];
      hub: { accepted: number; rejected: Record<string, number>; health: string };
    };
    expect(result.workerFailures).toEqual([]);
    expect(result.plan).toMatchObject({ devices: 300, processes: 2 });
    expect(result.connect).toEqual(expect.objectContaining({ connected: 300, failures: {} }));
    // 300 devices every 2 s for 4 s: about 600 heartbeats; 100 events/s: about 400 events.
    expect(result.traffic.heartbeats).toBeGreaterThan(400);
    expect(result.traffic.events).toBeGreaterThan(300);
    expect(result.traffic.ratesPerSecond.events).toBeGreaterThan(70);
    expect(result.traffic.acknowledged).toBe(result.traffic.heartbeats + result.traffic.events);
    const p = result.pubackLatencyMs;
    expect(p.count).toBe(result.traffic.acknowledged);
    expect(p.p50).toBeGreaterThan(0);
    expect(p.p50).toBeLessThanOrEqual(p.p95);
    expect(p.p95).toBeLessThanOrEqual(p.p99);
    expect(p.p99).toBeLessThanOrEqual(p.max);
    expect(result.errors).toEqual({});
    // The hub journaled every acknowledged message.
    expect(result.hub.accepted).toBe(result.traffic.acknowledged);
    expect(result.hub.rejected).toEqual({});
    expect(result.hub.health).toBe('ok');
    expect(result.ok).toBe(true);
    expect(r.code).toBe(0);
  }, 90_000);

  it('refuses targets that are not this machine, before any traffic', async () => {
    for (const [flag, url] of [
      ['--hub-mqtt', 'mqtt://10.0.0.5:1883'],
      ['--hub-mqtt', 'mqtt://example.org:1883'],
      ['--hub-mqtt', 'mqtt://[2001:db8::1]:1883'],
    ] as const) {
      const r = await sim(['load', flag, url, '--config', 'config/demo.yaml', '--duration', '1s']);
      expect(r.code, url).toBe(1);
      expect(r.err, url).toContain('Load runs target only 127.0.0.0/8, ::1 or localhost: refused');
    }
    const http = await sim([
      'load',
      '--hub-mqtt',
      'mqtt://127.0.0.1:1',
      '--hub-http',
      'http://192.168.0.9',
      '--config',
      'config/demo.yaml',
    ]);
    expect(http.err).toContain('--hub-http: 192.168.0.9 is not this machine');
    const src = await sim([
      'load',
      '--hub-mqtt',
      'mqtt://127.0.0.1:1',
      '--config',
      'config/demo.yaml',
      '--source-ips',
      '127.0.0.2-127.0.0.9,10.0.0.1',
    ]);
    expect(src.code).toBe(1);
    expect(src.err).toContain('10.0.0.1 is not a loopback address');
    const many = await sim([
      'load',
      '--hub-mqtt',
      'mqtt://127.0.0.1:1',
      '--config',
      'config/demo.yaml',
      '--devices',
      '50',
    ]);
    expect(many.code).toBe(1);
    expect(many.err).toContain('--devices 50: the configuration has 11 devices');
  });
});
