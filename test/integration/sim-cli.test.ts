import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliIo, main } from '../../devices-sim/src/cli.js';
import { startCommunity } from '../../devices-sim/src/community.js';
import { type RunningDemo, startDemo } from '../../devices-sim/src/demo.js';
import { SimDevice } from '../../devices-sim/src/sim-device.js';
import { createLogger } from '../../hub/src/log.js';
import type { Hub } from '../../hub/src/main.js';
import { FeedClient } from '../helpers/feed-client.js';
import {
  api,
  DEMO_CONFIG,
  DEMO_DEVICE_IDS,
  demoRaw,
  login,
  startHub,
  type TestHub,
  tempDir,
} from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILT_CLI = join(ROOT, 'dist', 'devices-sim', 'src', 'cli.js');
const DEMO_DEVICES = DEMO_DEVICE_IDS;

interface Alert {
  id: string;
  kind: string;
  homeId: string;
  deviceId: string;
  status: string;
}

/** The environment without CAREHUB_* settings of whoever runs the tests. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAREHUB_')));
  return { ...env, ...extra };
}

/** Run the CLI's main in-process with captured output. */
async function sim(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env: cleanEnv(env), cwd: ROOT };
  const code = await main(argv, io);
  return { code, out, err };
}

/** Run bin/carehub-sim.js (the built CLI) as a child process; async, so the in-process hub keeps serving. */
function runBin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'carehub-sim.js'), ...args], {
      cwd: ROOT,
      env: cleanEnv(),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function alerts(httpUrl: string, user: string): Promise<Alert[]> {
  const res = await api<{ alerts: Alert[] }>(httpUrl, await login(httpUrl, user), '/api/v1/alerts');
  expect(res.status).toBe(200);
  return res.body.alerts;
}

function journal(hub: Hub, deviceId: string): string[] {
  return hub.store.journal
    .readAfter(0, 100_000)
    .flatMap(({ entry }) => (entry.kind === 'device' && entry.deviceId === deviceId ? [entry.type] : []));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no port');
  return addr.port;
}

describe('carehub-sim: one event as a device', () => {
  let t: TestHub;
  beforeEach(async () => {
    t = await startHub();
  });
  afterEach(async () => {
    await t.stop();
  });

  it('press h1-sos (the built bin) is acknowledged, answered with alert.received, and duty1 sees the SOS', async () => {
    const r = await runBin(['press', 'h1-sos', '--hub-mqtt', t.mqttUrl]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('h1-sos: sos.pressed sent');
    const reply = /hub replied (\{.*\})/.exec(r.stdout);
    expect(reply, r.stdout).not.toBeNull();
    const command = JSON.parse(reply?.[1] ?? '{}') as { type: string; alertId: string };
    expect(command.type).toBe('alert.received');

    const list = await alerts(t.httpUrl, 'duty1');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: command.alertId,
      kind: 'sos',
      homeId: 'h1',
      deviceId: 'h1-sos',
      status: 'open',
    });
  });

  it('finds the hub through ports.json in the data dir when no --hub-mqtt is given', async () => {
    const r = await sim(['smoke', 'h2-smoke', '--data-dir', t.dataDir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('"type":"alert.received"');
    const list = await alerts(t.httpUrl, 'supervisor1');
    expect(list.map((a) => [a.kind, a.homeId])).toEqual([['smoke', 'h2']]);
  });

  it('takes the data dir from CAREHUB_DATA_DIR, and a smoke test raises no alert', async () => {
    const r = await sim(['smoke-test', 'h2-smoke'], { CAREHUB_DATA_DIR: t.dataDir });
    expect(r.code).toBe(0);
    expect(r.out).toContain('smoke.test sent');
    expect(journal(t.hub, 'h2-smoke')).toContain('smoke.test');
    expect(await alerts(t.httpUrl, 'supervisor1')).toEqual([]);
  });

  it('sends battery and rssi when given', async () => {
    const r = await sim([
      'heartbeat',
      'h3-door',
      '--hub-mqtt',
      t.mqttUrl,
      '--battery',
      '64',
      '--rssi',
      '-71',
    ]);
    expect(r.code).toBe(0);
    await expect
      .poll(() => t.hub.store.devices.get('h3-door'))
      .toMatchObject({ battery: 64, rssi: -71, online: true });
  });

  it('exits 1 with the CONNACK reason for a wrong secret, from --secret or CAREHUB_DEVICE_SECRET', async () => {
    const flag = await sim(['press', 'h1-sos', '--hub-mqtt', t.mqttUrl, '--secret', 'not-the-secret']);
    expect(flag.code).toBe(1);
    expect(flag.err).toContain('cannot connect as h1-sos');
    expect(flag.err).toContain('connection refused by the hub: Bad username or password (CONNACK 4)');
    expect(flag.out).toBe('');

    const env = await sim(['press', 'h1-sos', '--hub-mqtt', t.mqttUrl], {
      CAREHUB_DEVICE_SECRET: 'also-wrong',
    });
    expect(env.code).toBe(1);
    expect(env.err).toContain('(CONNACK 4)');
    expect(await alerts(t.httpUrl, 'supervisor1')).toEqual([]);
  });

  it('exits 1 for a device the configuration does not have', async () => {
    const r = await sim(['press', 'h9-sos', '--hub-mqtt', t.mqttUrl]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^carehub-sim: unknown device "h9-sos": not in config\/demo\.yaml \(devices: h1-sos, /,
    );
    expect(r.out).toBe('');
  });

  it('needs a secret when the configuration has none, and uses --secret then', async () => {
    const raw = demoRaw();
    raw.demo = false;
    for (const home of raw.homes as Array<{ devices: Array<Record<string, unknown>> }>) {
      for (const d of home.devices) delete d.demoSecret;
    }
    const file = join(t.dataDir, 'site.yaml');
    writeFileSync(file, stringify(raw));

    const missing = await sim(['open', 'h1-door', '--config', file, '--hub-mqtt', t.mqttUrl]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no secret for device "h1-door": give --secret or CAREHUB_DEVICE_SECRET');

    const given = await sim([
      'open',
      'h1-door',
      '--config',
      file,
      '--hub-mqtt',
      t.mqttUrl,
      '--secret',
      'h1-door-demo',
    ]);
    expect(given.code).toBe(0);
    expect(journal(t.hub, 'h1-door')).toEqual(['door.opened']);
  });

  it('exits 1 when nothing listens, or the hub does not answer in time', async () => {
    const closed = createServer();
    const closedPort = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await sim(['press', 'h1-sos', '--hub-mqtt', `mqtt://127.0.0.1:${closedPort}`]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      `nothing is listening at mqtt://127.0.0.1:${closedPort} (is the hub running?)`,
    );

    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    const silentPort = await listen(silent);
    try {
      const slow = await sim([
        'press',
        'h1-sos',
        '--hub-mqtt',
        `mqtt://127.0.0.1:${silentPort}`,
        '--timeout',
        '300',
      ]);
      expect(slow.code).toBe(1);
      expect(slow.err).toContain(`no answer from the hub at mqtt://127.0.0.1:${silentPort} within 300 ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('explains usage: --help lists the event commands, mistakes exit 1', async () => {
    const help = await sim(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['press DEVICE', 'smoke-test DEVICE', 'heartbeat DEVICE', '--hub-mqtt URL', '--secret'])
      expect(help.out).toContain(c);

    const unknown = await sim(['jump', 'h1-sos']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('unknown command "jump"');

    const noDevice = await sim(['press']);
    expect(noDevice.code).toBe(1);
    expect(noDevice.err).toContain('give the device id');

    const badBattery = await sim(['heartbeat', 'h1-sos', '--battery', '120', '--hub-mqtt', t.mqttUrl]);
    expect(badBattery.code).toBe(1);
    expect(badBattery.err).toContain('--battery: must be a number from 0 to 100');

    const badFlag = await sim(['press', 'h1-sos', '--colour', 'red']);
    expect(badFlag.code).toBe(1);
  });
});

describe('SimDevice and the simulated community', () => {
  let t: TestHub;
  beforeEach(async () => {
    t = await startHub();
  });
  afterEach(async () => {
    await t.stop();
  });

  it('every demo device comes online and sends heartbeats with a healthy battery, raising no alert', async () => {
    const community = await startCommunity(t.config, { url: t.mqttUrl, heartbeatMs: 100 });
    try {
      expect([...community.devices.keys()].sort()).toEqual([...DEMO_DEVICES].sort());
      await expect
        .poll(
          () =>
            DEMO_DEVICES.filter((id) => journal(t.hub, id).filter((type) => type === 'heartbeat').length < 3),
          {
            timeout: 5000,
          },
        )
        .toEqual([]);
      for (const id of DEMO_DEVICES) {
        expect(journal(t.hub, id)[0]).toBe('status.online');
        const state = t.hub.store.devices.get(id);
        expect(state?.online).toBe(true);
        expect(state?.battery).toBeGreaterThan(20);
      }
      expect(await alerts(t.httpUrl, 'supervisor1')).toEqual([]);
    } finally {
      await community.stop('clean');
    }
    for (const id of DEMO_DEVICES) expect(journal(t.hub, id).at(-1)).toBe('status.offline');
  });

  it('records commands: alert.received after a press, alert.acknowledged with the staff name', async () => {
    const sos = new SimDevice({ url: t.mqttUrl, id: 'h1-sos', secret: 'h1-sos-demo', announce: true });
    await sos.start();
    try {
      const sent = await sos.send('sos.pressed');
      const received = await sos.nextCommand((c) => c.type === 'alert.received');
      const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
      expect((await feed.request({ type: 'ack', alertId: received.alertId })).ok).toBe(true);
      await feed.close();
      const acked = await sos.nextCommand((c) => c.type === 'alert.acknowledged');
      expect(acked).toMatchObject({ alertId: received.alertId, by: '刘洋 (Liu Yang)' });
      expect(sos.commands.map((c) => c.type)).toEqual(['alert.received', 'alert.acknowledged']);

      // Every event carries its own id: a second press is a new occurrence, not a duplicate.
      const again = await sos.send('sos.pressed');
      expect(again.id).not.toBe(sent.id);
      await sos.nextCommand((c) => c.type === 'alert.received' && sos.commands.length === 3);
      const list = await alerts(t.httpUrl, 'duty1');
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ occurrences: 2 });
    } finally {
      await sos.stop();
    }
  });

  it('going offline abruptly makes the broker deliver the Last Will', async () => {
    const door = new SimDevice({ url: t.mqttUrl, id: 'h2-door', secret: 'h2-door-demo', announce: true });
    await door.start();
    await door.send('door.opened');
    await door.stop('abrupt');
    await expect
      .poll(() => journal(t.hub, 'h2-door'))
      .toEqual(['status.online', 'door.opened', 'status.offline']);
    await expect.poll(() => t.hub.store.devices.get('h2-door')?.online).toBe(false);
  });

  it('a running device whose session the CLI takes over comes back online by itself', async () => {
    const sos = new SimDevice({
      url: t.mqttUrl,
      id: 'h2-sos',
      secret: 'h2-sos-demo',
      announce: true,
      reconnectMs: 500,
    });
    await sos.start();
    try {
      // client id = device id, so the CLI's connection takes the session over (the broker sends the will)
      const r = await sim(['press', 'h2-sos', '--hub-mqtt', t.mqttUrl]);
      expect(r.code).toBe(0);
      await expect.poll(() => journal(t.hub, 'h2-sos').at(-1), { timeout: 5000 }).toBe('status.online');
      expect(journal(t.hub, 'h2-sos').sort()).toEqual([
        'sos.pressed',
        'status.offline',
        'status.online',
        'status.online',
      ]);
      expect(sos.connected).toBe(true);
      await sos.send('sos.cancelled');
    } finally {
      await sos.stop();
    }
  });

  it('a one-shot device (no announce) sets no will and says nothing about its status', async () => {
    const door = new SimDevice({ url: t.mqttUrl, id: 'h3-door', secret: 'h3-door-demo' });
    await door.start();
    await door.send('door.closed');
    await door.stop('abrupt');
    // a later event from another device proves the hub has processed everything before it
    const probe = new SimDevice({ url: t.mqttUrl, id: 'h3-motion', secret: 'h3-motion-demo' });
    await probe.start();
    await probe.send('motion.detected');
    await probe.stop();
    await expect.poll(() => journal(t.hub, 'h3-motion')).toEqual(['motion.detected']);
    expect(journal(t.hub, 'h3-door')).toEqual(['door.closed']);
  });
});

describe('the demo runner (npm start)', () => {
  let demo: RunningDemo | undefined;
  let dataDir: string;
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the hub, connects every device with heartbeats, and plays SOS at h1, a smoke test at h2, smoke at h3', async () => {
    dataDir = tempDir();
    const lines: string[] = [];
    demo = await startDemo({
      configFile: DEMO_CONFIG,
      env: { CAREHUB_MQTT_PORT: '0', CAREHUB_HTTP_PORT: '0', CAREHUB_DATA_DIR: dataDir },
      speed: 30,
      heartbeatMs: 150,
      say: (line) => lines.push(line),
      hubOptions: { logger: createLogger('silent'), processMetrics: false },
    });
    const { hub, ports } = demo;
    const banner = lines.join('\n');
    expect(banner).toContain(`http://localhost:${ports.http}/`);
    expect(banner).toContain('duty1 / duty1-demo');
    expect(banner).toContain('supervisor1 / supervisor1-demo');

    const httpUrl = `http://127.0.0.1:${ports.http}`;
    // at speed 30: SOS after ~0.33 s, smoke test ~1 s, smoke ~1.5 s
    await expect
      .poll(async () => (await alerts(httpUrl, 'supervisor1')).map((a) => `${a.kind}@${a.homeId}`).sort(), {
        timeout: 8000,
      })
      .toEqual(['smoke@h3', 'sos@h1']);
    expect((await alerts(httpUrl, 'duty1')).map((a) => `${a.kind}@${a.homeId}`)).toEqual(['sos@h1']);
    expect(journal(hub, 'h2-smoke')).toContain('smoke.test');
    for (const id of DEMO_DEVICES) {
      expect(journal(hub, id).filter((type) => type === 'heartbeat').length, id).toBeGreaterThanOrEqual(2);
    }
    expect(lines.some((l) => l.includes('h1-sos <- hub: alert.received'))).toBe(true);
    expect(lines.some((l) => l.includes('h1: the resident presses her SOS pendant'))).toBe(true);
  });
});
