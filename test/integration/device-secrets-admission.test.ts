import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { fastHash, generateDeviceSecret, verifyFastHash } from '../../hub/src/auth/device-secrets.js';
import { hashSecret, verifySecret } from '../../hub/src/auth/secrets.js';
import { parseConfig, problemsOf } from '../../hub/src/config/load.js';
import { connectDevice, demoRaw, startHub, type TestHub, tempDir } from '../helpers/hub.js';
import { metric, within } from '../helpers/hub-probe.js';

/**
 * Issue 16, item 8: cold admission. Secrets the hub makes are verified with a fast keyed hash; a
 * scrypt entry of such a secret gets a fast verifier on its first successful check, kept in SQLite,
 * so the next admission, after a restart too, skips scrypt. Person-chosen secrets stay on scrypt.
 */

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'carehub.js');
const CHEAP = { N: 1024, r: 8, p: 1, keyLen: 32 };

type RawDevice = { id: string; secretHash: string };
function withHashes(hashes: Record<string, string>): Record<string, unknown> {
  const raw = demoRaw();
  for (const home of raw.homes as Array<{ devices: RawDevice[] }>)
    for (const d of home.devices) if (hashes[d.id]) d.secretHash = hashes[d.id] as string;
  return raw;
}

const checks = (t: TestHub, method: string) => metric(t, 'carehub_mqtt_secret_checks_total', { method });

describe('device secrets at admission', () => {
  const undo: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of undo.splice(0).reverse()) await fn();
  });

  async function hub(raw: Record<string, unknown>, dataDir: string): Promise<TestHub> {
    const t = await startHub({ raw, dataDir });
    undo.push(() => t.stop());
    return t;
  }

  async function admit(t: TestHub, id: string, password: string): Promise<void> {
    const c = await connectDevice(t.mqttUrl, id, { protocolVersion: 4, password });
    await c.endAsync();
  }

  it('after a restart admits a hub-made secret under a scrypt entry by its kept fast verifier; a chosen secret stays on scrypt', async () => {
    const secret = generateDeviceSecret();
    const raw = withHashes({ 'h1-door': await hashSecret(secret, CHEAP) });
    const dataDir = tempDir();
    undo.push(() => rmSync(dataDir, { recursive: true, force: true }));

    const first = await hub(raw, dataDir);
    await admit(first, 'h1-door', secret);
    await admit(first, 'h1-sos', 'h1-sos-demo');
    expect(await checks(first, 'scrypt')).toBe(2);
    expect(await checks(first, 'fast')).toBe(0);
    await first.stop();

    const second = await hub(raw, dataDir);
    await admit(second, 'h1-door', secret);
    expect(await checks(second, 'fast')).toBe(1);
    expect(await checks(second, 'scrypt')).toBe(0);
    await admit(second, 'h1-sos', 'h1-sos-demo');
    expect(await checks(second, 'scrypt')).toBe(1);
    // a wrong secret is refused by the kept verifier too (CONNACK 4), without a scrypt
    const wrong = mqtt.connect(second.mqttUrl, {
      clientId: 'h1-door',
      username: 'h1-door',
      password: generateDeviceSecret(),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    undo.push(() => wrong.endAsync(true));
    const code = await within(
      new Promise<number | undefined>((resolve) =>
        wrong.once('error', (e: Error & { code?: number }) => resolve(e.code)),
      ),
      5000,
      'refusal',
    );
    expect(code).toBe(4);
    expect(await checks(second, 'scrypt')).toBe(1);
    // a new hash for the device (the site directory is in the store since issue 18: a directory
    // entry changes it, as the admin API or `carehub import` would): the kept verifier no longer answers
    const rotated = generateDeviceSecret();
    second.hub.core.machine.submitNow({
      kind: 'directory',
      at: Date.now(),
      actor: 'test',
      ops: [{ op: 'device.secret', deviceId: 'h1-door', secretHash: await hashSecret(rotated, CHEAP) }],
    });
    await second.stop();

    const third = await hub(raw, dataDir);
    await admit(third, 'h1-door', rotated);
    expect(await checks(third, 'scrypt')).toBe(1);
    expect(await checks(third, 'fast')).toBe(0);
  });

  it('admits a device whose configured hash is a fast hash, with no scrypt at all', async () => {
    const secret = generateDeviceSecret();
    const dataDir = tempDir();
    undo.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const t = await hub(withHashes({ 'h2-smoke': fastHash(secret) }), dataDir);
    await admit(t, 'h2-smoke', secret);
    expect(await checks(t, 'fast')).toBe(1);
    expect(await checks(t, 'scrypt')).toBe(0);
  });

  it('accepts a fast hash for a device in the configuration, never for a staff password', () => {
    const fast = fastHash(generateDeviceSecret());
    expect(() => parseConfig(withHashes({ 'h1-sos': fast }))).not.toThrow();
    const raw = demoRaw();
    (raw.staff as Array<{ passwordHash: string }>)[0]!.passwordHash = fast;
    let problems: Array<{ path: string }> = [];
    try {
      parseConfig(raw);
    } catch (err) {
      problems = problemsOf(err);
    }
    expect(problems.map((p) => p.path)).toEqual(['staff[0].passwordHash']);
  });

  it('carehub hash-secret --generate prints a new hub-made secret and its fast hash; --fast refuses a chosen secret', async () => {
    const run = (...args: string[]) =>
      spawnSync('node', [CLI, 'hash-secret', ...args], { encoding: 'utf8', input: '' });
    const gen = run('--generate');
    expect(gen.status).toBe(0);
    const m = /^secret: (chs1_\S+)\nsecretHash: "(hmac-sha256\$\S+)"\n$/.exec(gen.stdout);
    expect(m, gen.stdout).not.toBeNull();
    expect(verifyFastHash(m?.[1] ?? '', m?.[2] ?? '')).toBe(true);

    const fast = run('--fast', '--secret', m?.[1] ?? '');
    expect(fast.status).toBe(0);
    expect(verifyFastHash(m?.[1] ?? '', fast.stdout.trim())).toBe(true);

    const chosen = run('--fast', '--secret', 'h1-sos-demo');
    expect(chosen.status).toBe(1);
    expect(chosen.stdout).toBe('');
    expect(chosen.stderr).toMatch(/scrypt/);

    const plain = run('--secret', 'h1-sos-demo');
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/^scrypt\$/);
    expect(await verifySecret('h1-sos-demo', plain.stdout.trim())).toBe(true);
  });
});
