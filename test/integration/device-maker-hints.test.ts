import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createLogger } from '../../hub/src/log.js';
import { EVENT_TYPES } from '../../hub/src/protocol/events.js';
import { connectDevice, demoRaw, startHub, type TestHub, tempDir } from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILT = join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js');

interface LogLine {
  msg: string;
  client?: string;
  topic?: string;
  reason?: string;
  detail?: string;
  expected?: string;
}

function carehub(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'carehub.js'), ...args], {
      cwd: ROOT,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAREHUB_'))),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A device maker's first tries with mosquitto_pub, as a real MQTT client: a misspelt type, a name
 * where the type goes, a wrong field, a misspelt topic, another device's topic. The hub's log says
 * what was wrong and what is expected, without the device's text; `carehub dead-letters` shows them.
 */
describe('what a device maker is told about a refused message', () => {
  let t: TestHub;
  let client: MqttClient;
  const lines: LogLine[] = [];
  const logText = () => lines.map((l) => JSON.stringify(l)).join('\n');

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
        done();
      },
    });
    t = await startHub({ logger: createLogger('warn', sink) });
    client = await connectDevice(t.mqttUrl, 'h1-sos');
    const pub = (topic: string, payload: string) => client.publishAsync(topic, payload, { qos: 1 });
    await pub('carehub/v1/devices/h1-sos/events', '{"type":"sos.press","id":"dm-1"}');
    await pub('carehub/v1/devices/h1-sos/events', '{"type":"Wang Guifang","id":"dm-2"}');
    await pub('carehub/v1/devices/h1-sos/events', '{"type":"heartbeat","battery":"full"}');
    await pub('carehub/v1/devices/h1-sos/event', '{"type":"sos.pressed"}');
    await pub('carehub/v1/devices/h2-sos/events', '{"type":"sos.pressed"}');
    // refused with SUBACK 0x80, which the client reports as an error
    await expect(client.subscribeAsync('carehub/v1/devices/h1-sos/command', { qos: 1 })).rejects.toThrow();
  }, 30_000);
  afterAll(async () => {
    await client?.endAsync(true);
    await t?.stop();
  });

  const rejected = (match: (l: LogLine) => boolean) =>
    expect.poll(() => lines.find((l) => l.msg === 'device message rejected' && match(l)), { timeout: 3000 });

  it('names the closest event type and lists the valid ones, without quoting the device', async () => {
    await rejected(
      (l) => l.reason === 'unknown_type' && /did you mean "sos.pressed"/.test(l.detail ?? ''),
    ).toBeDefined();
    const line = lines.find((l) => l.reason === 'unknown_type' && /did you mean/.test(l.detail ?? ''));
    expect(line?.detail).toContain(`expected one of ${EVENT_TYPES.join(', ')}`);
    expect(line?.detail).toContain('9 characters');
    expect(line?.detail).not.toContain('"sos.press"');
  });

  it('keeps a resident’s name typed into the type field out of the log', async () => {
    await rejected((l) => l.reason === 'unknown_type' && /12 characters/.test(l.detail ?? '')).toBeDefined();
    expect(logText()).not.toContain('Wang Guifang');
  });

  it('says which field is wrong and what it must be', async () => {
    await rejected((l) => l.reason === 'invalid_payload').toMatchObject({
      detail: 'battery must be a number from 0 to 100; got a text of 4 characters',
    });
  });

  it('answers a misspelt topic and another device’s topic with the device’s own topics', async () => {
    // Refusals are logged once per device and kind, then summarised (issue 16): the first line
    // names the refused topic and the device's own topics; the second refusal is counted for the summary.
    const refused = () => lines.filter((l) => /publish refused by ACL/.test(l.msg));
    await expect.poll(() => refused().length, { timeout: 3000 }).toBeGreaterThan(0);
    expect(['carehub/v1/devices/h1-sos/event', 'carehub/v1/devices/h2-sos/events']).toContain(
      refused()[0]?.topic,
    );
    for (const l of refused())
      expect(l.expected).toBe('carehub/v1/devices/h1-sos/events or carehub/v1/devices/h1-sos/status');
    await expect
      .poll(() => lines.find((l) => /subscribe refused by ACL/.test(l.msg))?.expected, { timeout: 3000 })
      .toBe('carehub/v1/devices/h1-sos/commands');
  });

  it('`carehub dead-letters` lists them newest first, with what was expected, the device’s text only on request', async () => {
    await expect.poll(() => t.hub.store.deadLetters.count(), { timeout: 3000 }).toBe(3);
    const all = await carehub(['dead-letters', '--data-dir', t.dataDir]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain(`3 of 3 rejected messages in ${t.dataDir}, newest first`);
    const order = ['invalid_payload', 'unknown_type', 'unknown_type'].map((r) =>
      all.stdout.indexOf(`h1-sos  ${r}`),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order[0]).toBeLessThan(order[1] ?? 0);
    expect(all.stdout).toContain('did you mean "sos.pressed"?');
    expect(all.stdout).toContain('battery must be a number from 0 to 100');
    expect(all.stdout).not.toContain('Wang Guifang');

    const one = await carehub([
      'dead-letters',
      '--data-dir',
      t.dataDir,
      '--reason',
      'unknown_type',
      '--limit',
      '1',
      '--json',
    ]);
    const rows = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      device: 'h1-sos',
      reason: 'unknown_type',
      topic: 'carehub/v1/devices/h1-sos/events',
    });
    expect(String(rows[0]?.at)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect(rows[0]).not.toHaveProperty('payload');

    const full = await carehub([
      'dead-letters',
      '--data-dir',
      t.dataDir,
      '--reason',
      'unknown_type',
      '--payload',
    ]);
    expect(full.stdout).toContain('unknown event type "Wang Guifang"');
    expect(full.stdout).toContain('payload (35 bytes): {\\"type\\":\\"Wang Guifang\\",\\"id\\":\\"dm-2\\"}');
  });

  it('`carehub dead-letters` with a configuration uses its data dir; mistakes exit 1 in plain words', async () => {
    const file = join(tempDir(), 'site.yaml');
    writeFileSync(file, stringify({ ...demoRaw(), dataDir: t.dataDir }));
    const viaConfig = await carehub(['dead-letters', '--config', file, '--limit', '2']);
    expect(viaConfig.code).toBe(0);
    expect(viaConfig.stdout).toContain('2 of 3 rejected messages');

    const none = await carehub(['dead-letters', '--data-dir', tempDir()]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no hub database in');
    const badLimit = await carehub(['dead-letters', '--data-dir', t.dataDir, '--limit', 'all']);
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain('--limit must be a whole number from 1 to 10000, got "all"');
    const nothing = await carehub(['dead-letters']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('give --config FILE or --data-dir DIR');
  });
});
