import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { cleanEnv, type HubChild, startHubChild } from '../helpers/hub-process.js';

/**
 * The hub as its own process (`node bin/carehub.js`, the tsc build in dist/: run `npm run build` first,
 * `npm test` does), killed with SIGKILL the instant a PUBACK arrives, then restarted on the same data dir.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'carehub.js');
const DEMO = join(ROOT, 'config', 'demo.yaml');

interface Alert {
  id: string;
  kind: string;
  homeId: string;
  status: string;
  occurrences: number;
}

type HubProcess = HubChild;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test runner's environment without any CAREHUB_ variable of the machine. */

describe('the hub as a process', () => {
  const children = new Set<ChildProcess>();
  const clients = new Set<MqttClient>();
  const dirs: string[] = [];

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js'))) {
      throw new Error('dist/ is missing: run `npm run build` before this test (`npm test` does)');
    }
  });

  afterEach(async () => {
    for (const c of clients) c.end(true);
    clients.clear();
    await Promise.all(
      [...children].map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGKILL');
          await Promise.race([gone, sleep(5000)]);
        }
      }),
    );
    children.clear();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'carehub-proc-'));
    dirs.push(d);
    return d;
  }

  function run(
    args: string[],
    env: Record<string, string> = {},
    timeoutMs = 20_000,
  ): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
    return { child, done };
  }

  /** `carehub start` on the demo configuration, on free ports, with `dataDir`; resolves once /healthz answers. */
  function startHubProcess(dataDir: string): Promise<HubProcess> {
    return startHubChild(DEMO, dataDir, { onSpawn: (child) => children.add(child) });
  }

  async function connect(url: string): Promise<MqttClient> {
    const client = mqtt.connect(url, {
      clientId: 'h1-sos',
      username: 'h1-sos',
      password: 'h1-sos-demo',
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.add(client);
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
    return client;
  }

  /** Publish sos.pressed with `id` at QoS 1 and SIGKILL the hub the instant the PUBACK arrives. */
  async function pressAndKill(hub: HubProcess, id: string): Promise<void> {
    const client = await connect(hub.mqttUrl);
    const acked = new Promise<void>((resolve, reject) => {
      client.publish(
        'carehub/v1/devices/h1-sos/events',
        JSON.stringify({ type: 'sos.pressed', id }),
        { qos: 1 },
        (err) => {
          hub.child.kill('SIGKILL');
          if (err) reject(err);
          else resolve();
        },
      );
    });
    await Promise.race([acked, sleep(10_000).then(() => Promise.reject(new Error(`no PUBACK for ${id}`)))]);
    const { signal } = await hub.exited;
    expect(signal).toBe('SIGKILL');
    client.end(true);
    clients.delete(client);
  }

  async function press(hub: HubProcess, id: string): Promise<void> {
    const client = await connect(hub.mqttUrl);
    await client.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id }),
      { qos: 1 },
    );
    await client.endAsync();
    clients.delete(client);
  }

  async function sosAlertsOfH1(hub: HubProcess): Promise<Alert[]> {
    const login = await fetch(`${hub.httpUrl}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'supervisor1', password: 'supervisor1-demo' }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const res = await fetch(`${hub.httpUrl}/api/v1/alerts?kind=sos&homeId=h1&limit=500`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { alerts: Alert[] }).alerts;
  }

  it('keeps a press PUBACKed the instant before kill -9 as exactly one alert, and merges its redelivery after restart', {
    timeout: 60_000,
  }, async () => {
    const dataDir = tempDir();
    const first = await startHubProcess(dataDir);
    await pressAndKill(first, 'crash-1');

    const second = await startHubProcess(dataDir);
    const alerts = await sosAlertsOfH1(second);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'sos', homeId: 'h1', status: 'open', occurrences: 1 });

    // a device that resends the same press after the restart (same id) is merged, not counted again
    await press(second, 'crash-1');
    const again = await sosAlertsOfH1(second);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: alerts[0]?.id, occurrences: 1 });
  });

  it('counts every PUBACKed press exactly once across repeated kill -9 and restart cycles', {
    timeout: 120_000,
  }, async () => {
    const dataDir = tempDir();
    const CYCLES = 5;
    let hub = await startHubProcess(dataDir);
    let alertId: string | undefined;
    for (let i = 1; i <= CYCLES; i++) {
      await pressAndKill(hub, `cycle-${i}`);
      hub = await startHubProcess(dataDir);
      const alerts = await sosAlertsOfH1(hub);
      expect(alerts, `after cycle ${i}`).toHaveLength(1);
      expect(alerts[0], `after cycle ${i}`).toMatchObject({ status: 'open', occurrences: i });
      alertId ??= alerts[0]?.id;
      expect(alerts[0]?.id).toBe(alertId);
    }
    // redeliveries of any earlier press change nothing
    await press(hub, `cycle-${CYCLES}`);
    await press(hub, 'cycle-1');
    const alerts = await sosAlertsOfH1(hub);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.occurrences).toBe(CYCLES);
    // and the hub is still taking new presses
    await press(hub, 'fresh');
    expect((await sosAlertsOfH1(hub))[0]?.occurrences).toBe(CYCLES + 1);
  });

  describe('command line', () => {
    function brokenConfig(dir: string): string {
      // biome-ignore lint/suspicious/noExplicitAny: a raw YAML document, edited freely
      const raw = parseDocument(readFileSync(DEMO, 'utf8')).toJS() as Record<string, any>;
      raw.colour = 'blue';
      raw.site.timezone = 'Asia/Shangai';
      raw.homes[1].devices[0].id = 'h1-sos';
      raw.staff[0].grids = [];
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, stringify(raw));
      return file;
    }
    const EXPECTED_PATHS = ['colour', 'site.timezone', 'homes[1].devices[0].id', 'staff[0].grids'];
    /** Each problem once, at its place in the file: `FILE:LINE:COL: path: message`. */
    const atItsPlace = (p: string) =>
      new RegExp(`broken\\.yaml:\\d+:\\d+: ${p.replace(/[[\]().]/g, '\\$&')}: `);
    const STACK = /^\s+at .+[(:]\d+/m;

    it('`carehub start` with a broken configuration prints every problem by path and exits 1, without a stack trace', async () => {
      const dir = tempDir();
      const file = brokenConfig(dir);
      const { code, stdout, stderr } = await run(['start', '--config', file], {
        CAREHUB_DATA_DIR: join(dir, 'data'),
        CAREHUB_MQTT_PORT: '0',
        CAREHUB_HTTP_PORT: '0',
      }).done;
      expect(code).toBe(1);
      for (const p of EXPECTED_PATHS) expect(stderr).toMatch(atItsPlace(p));
      expect(`${stdout}${stderr}`).not.toMatch(STACK);
      expect(stderr).not.toMatch(/HubError|ZodError/);
      expect(existsSync(join(dir, 'data'))).toBe(false);
    });

    it('`carehub start` with a missing file or a bad port variable exits 1 with a message', async () => {
      const dir = tempDir();
      const missing = await run(['start', '--config', join(dir, 'nope.yaml')]).done;
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('nope.yaml');
      expect(missing.stderr).not.toMatch(STACK);
      const badPort = await run(['start', '--config', DEMO], {
        CAREHUB_MQTT_PORT: 'eighty',
        CAREHUB_DATA_DIR: join(dir, 'data'),
      }).done;
      expect(badPort.code).toBe(1);
      expect(badPort.stderr).toContain('$CAREHUB_MQTT_PORT');
      expect(badPort.stderr).not.toMatch(STACK);
    });

    it('`carehub check-config config/demo.yaml` exits 0', async () => {
      const { code, stdout } = await run(['check-config', DEMO]).done;
      expect(code).toBe(0);
      expect(stdout).toMatch(/OK \(3 homes, 11 devices, 3 staff\)/);
    });

    it('`carehub check-config` on a broken file exits 1 listing every problem by path', async () => {
      const dir = tempDir();
      const { code, stdout, stderr } = await run(['check-config', brokenConfig(dir)]).done;
      expect(code).toBe(1);
      for (const p of EXPECTED_PATHS) expect(stderr).toMatch(atItsPlace(p));
      expect(`${stdout}${stderr}`).not.toMatch(STACK);

      const syntax = join(dir, 'syntax.yaml');
      writeFileSync(syntax, 'site:\n  name: x\n  name: y\nhomes: [\n');
      const bad = await run(['check-config', syntax]).done;
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/syntax\.yaml:3:\d+: this key is given twice/);
      expect(bad.stderr).not.toMatch(STACK);
    });
  });
});
