import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { openLogReader } from '../../hub/src/store/log-reader.js';
import { api, connectDevice, login, startHub, type TestHub, tempDir } from '../helpers/hub.js';
import { ROOT, spawnHubProcess } from '../helpers/hub-process.js';
import { Z2mModel, z2mStep } from '../helpers/z2m-model.js';

/**
 * Real hubs on one SQLite file, restarted in between, and a real MQTT client as the Zigbee2MQTT bridge
 * (gateway z1-gw of the gateway-offline drill: pendant, front_door, kitchen_smoke), publishing full
 * cached states as Zigbee2MQTT does. What counts is what the hub stored: journal rows and alerts.
 */
const SITE = (
  parse(
    readFileSync(
      join(import.meta.dirname, '..', '..', 'devices-sim', 'scenarios', 'gateway-offline.yaml'),
      'utf8',
    ),
  ) as { config: Record<string, unknown> }
).config;

const FRIENDLY = { pendant: 'pendant', smoke: 'kitchen_smoke' } as const;
const DEVICE = { pendant: 'z1-sos', smoke: 'z1-smoke' } as const;

interface Alert {
  id: string;
  kind: string;
  occurrences: number;
  status: string;
}

class Site {
  hub: TestHub | undefined;
  bridge: MqttClient | undefined;
  token = '';

  constructor(readonly dataDir: string) {}

  async start(): Promise<void> {
    this.hub = await startHub({ raw: structuredClone(SITE), dataDir: this.dataDir });
    this.bridge = await connectDevice(this.hub.mqttUrl, 'z1-gw');
    this.token = await login(this.hub.httpUrl, 'supervisor1');
  }

  /** A hub restart: the bridge loses its connection and logs in again to the new hub. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.bridge?.endAsync(true);
    await this.hub?.stop();
    this.bridge = undefined;
    this.hub = undefined;
  }

  /** Resolves on the PUBACK: the report is stored and applied. */
  async publish(friendly: string, state: Record<string, unknown>): Promise<void> {
    await (this.bridge as MqttClient).publishAsync(`zigbee2mqtt/${friendly}`, JSON.stringify(state), {
      qos: 1,
    });
  }

  /** Journal rows of a device by type. */
  rows(deviceId: string): Record<string, number> {
    const reader = openLogReader(this.dataDir);
    try {
      const out: Record<string, number> = {};
      for (const { entry: e } of reader.read(0, 1_000_000))
        if (e.kind === 'device' && e.deviceId === deviceId) out[e.type] = (out[e.type] ?? 0) + 1;
      return out;
    } finally {
      reader.close();
    }
  }

  async alerts(kind: string): Promise<Alert[]> {
    const res = await api<{ alerts: Alert[] }>(
      (this.hub as TestHub).httpUrl,
      this.token,
      `/api/v1/alerts?kind=${kind}`,
    );
    expect(res.status).toBe(200);
    return res.body.alerts.filter((a) => a.kind === kind);
  }
}

/** `carehub start` as its own process (the build in dist/), to be killed with SIGKILL. */
async function startProcess(
  config: string,
  dataDir: string,
): Promise<{ mqttUrl: string; kill(): Promise<void> }> {
  const { child, output } = spawnHubProcess(config, dataDir);
  children.add(child);
  const portsFile = join(dataDir, 'ports.json');
  let ports: { mqtt: number } | undefined;
  for (let i = 0; i < 300 && !ports; i++) {
    if (child.exitCode !== null) throw new Error(`the hub exited while starting:\n${output()}`);
    try {
      ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { mqtt: number };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (!ports) throw new Error(`no ports.json within 15 s:\n${output()}`);
  return {
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    kill: () => killNow(child),
  };
}

/** Hub processes still running when a test ends (killed by afterEach). */
const children = new Set<ChildProcess>();

function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  return gone;
}

describe('Zigbee2MQTT cached full states across hub restarts', () => {
  let site: Site;
  afterEach(async () => {
    await Promise.all([...children].map(killNow));
    children.clear();
    await site.stop();
    rmSync(site.dataDir, { recursive: true, force: true });
  });

  it('SOS pendant: cached repeats of a press and a restart add nothing; a real new press adds an occurrence', async () => {
    site = new Site(tempDir('carehub-z2m-sos-'));
    await site.start();
    const pendant = { battery: 91, voltage: 3000 };
    await site.publish('pendant', { ...pendant, linkquality: 120, action: 'emergency' });
    expect((await site.alerts('sos')).map((a) => a.occurrences)).toEqual([1]);

    // A gateway that keeps `action` in its cache repeats it with every battery report.
    await site.publish('pendant', { ...pendant, battery: 90, linkquality: 110, action: 'emergency' });
    await site.publish('pendant', {
      ...pendant,
      battery: 90,
      voltage: 2980,
      linkquality: 97,
      action: 'emergency',
    });
    expect(site.rows('z1-sos')['sos.pressed']).toBe(1);
    expect((await site.alerts('sos')).map((a) => a.occurrences)).toEqual([1]);

    await site.restart();
    // The first report after the restart: the cached state once more, old action and all.
    await site.publish('pendant', {
      ...pendant,
      battery: 89,
      voltage: 2980,
      linkquality: 101,
      action: 'emergency',
    });
    // Zigbee2MQTT's own cached state (cache_state_send_on_startup) has no action.
    await site.publish('pendant', { ...pendant, battery: 89, voltage: 2980, linkquality: 101 });
    expect(site.rows('z1-sos')['sos.pressed']).toBe(1);
    expect((await site.alerts('sos')).map((a) => a.occurrences)).toEqual([1]);
    expect(await site.alerts('smoke')).toEqual([]);

    // The resident presses again.
    await site.publish('pendant', {
      ...pendant,
      battery: 89,
      voltage: 2980,
      linkquality: 99,
      action: 'emergency',
    });
    expect(site.rows('z1-sos')['sos.pressed']).toBe(2);
    expect((await site.alerts('sos')).map((a) => a.occurrences)).toEqual([2]);

    // And twice in a row, nothing in between (Zigbee2MQTT never caches action): each press counts.
    await site.restart();
    await site.publish('pendant', {
      ...pendant,
      battery: 89,
      voltage: 2980,
      linkquality: 88,
      action: 'emergency',
    });
    expect(site.rows('z1-sos')['sos.pressed']).toBe(3);
    expect((await site.alerts('sos')).map((a) => a.occurrences)).toEqual([3]);
  });

  it('smoke detector: a test press is no fire, before or after a restart; a real fire after it is one fire, also after a restart', async () => {
    site = new Site(tempDir('carehub-z2m-smoke-'));
    await site.start();
    // fz.ias_smoke_alarm_1 (Heiman HS1SA-E): zone status bits as fields.
    const idle = {
      battery: 100,
      smoke: false,
      tamper: false,
      battery_low: false,
      supervision_reports: true,
      restore_reports: true,
      trouble: false,
      ac_status: false,
      test: false,
      battery_defect: false,
    };
    await site.publish('kitchen_smoke', { ...idle, linkquality: 120 });
    // The test button: zone status alarm1 + test.
    await site.publish('kitchen_smoke', { ...idle, smoke: true, test: true, linkquality: 118 });
    await site.publish('kitchen_smoke', { ...idle, smoke: true, test: true, battery: 99, linkquality: 117 });
    expect(site.rows('z1-smoke')).toMatchObject({ 'smoke.test': 1 });
    expect(site.rows('z1-smoke')['smoke.detected']).toBeUndefined();
    expect(await site.alerts('smoke')).toEqual([]);

    await site.restart();
    await site.publish('kitchen_smoke', { ...idle, smoke: true, test: true, battery: 98, linkquality: 90 });
    expect(site.rows('z1-smoke')).toMatchObject({ 'smoke.test': 1 });
    expect(site.rows('z1-smoke')['smoke.detected']).toBeUndefined();
    expect(await site.alerts('smoke')).toEqual([]);
    expect(await site.alerts('sos')).toEqual([]);

    await site.publish('kitchen_smoke', { ...idle, battery: 98, linkquality: 91 });
    await site.publish('kitchen_smoke', { ...idle, battery: 98, smoke: true, linkquality: 92 });
    expect(site.rows('z1-smoke')['smoke.detected']).toBe(1);
    expect((await site.alerts('smoke')).map((a) => a.occurrences)).toEqual([1]);

    // The fire is still on when the hub restarts: the cached smoke:true is the same fire.
    await site.restart();
    await site.publish('kitchen_smoke', { ...idle, battery: 97, smoke: true, linkquality: 80 });
    expect(site.rows('z1-smoke')['smoke.detected']).toBe(1);
    expect((await site.alerts('smoke')).map((a) => a.occurrences)).toEqual([1]);
    expect(site.rows('z1-smoke')['smoke.test']).toBe(1);
  });

  // Generated Zigbee2MQTT days with real hub restarts in between: after every report the hub has
  // stored exactly one sos.pressed per press and one smoke.detected per fire shown outside a test.
  // Bounded: 6 runs of at most 14 steps, each with at least one restart (~10–20 s).
  it('kill -9 the instant the PUBACK of a press and of a test press arrives: after the restart their cached repeats are still repeats', async () => {
    if (!existsSync(join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` before this test (`npm test` does)');
    site = new Site(tempDir('carehub-z2m-kill-'));
    const config = join(site.dataDir, 'site.yaml');
    writeFileSync(config, stringify(SITE));
    const idle = { battery: 100, smoke: false, test: false, tamper: false, battery_low: false };

    let hub = await startProcess(config, site.dataDir);
    let bridge = await connectDevice(hub.mqttUrl, 'z1-gw');
    await bridge.publishAsync('zigbee2mqtt/kitchen_smoke', JSON.stringify({ ...idle, linkquality: 99 }), {
      qos: 1,
    });
    await bridge.publishAsync(
      'zigbee2mqtt/pendant',
      JSON.stringify({ battery: 80, linkquality: 90, action: 'sos' }),
      {
        qos: 1,
      },
    );
    await bridge.publishAsync(
      'zigbee2mqtt/kitchen_smoke',
      JSON.stringify({ ...idle, smoke: true, test: true, linkquality: 98 }),
      {
        qos: 1,
      },
    );
    await hub.kill();
    bridge.end(true);

    hub = await startProcess(config, site.dataDir);
    bridge = await connectDevice(hub.mqttUrl, 'z1-gw');
    await bridge.publishAsync(
      'zigbee2mqtt/pendant',
      JSON.stringify({ battery: 79, linkquality: 91, action: 'sos' }),
      {
        qos: 1,
      },
    );
    await bridge.publishAsync(
      'zigbee2mqtt/kitchen_smoke',
      JSON.stringify({ ...idle, smoke: true, test: true, battery: 99, linkquality: 97 }),
      { qos: 1 },
    );
    await hub.kill();
    bridge.end(true);

    expect(site.rows('z1-sos')).toMatchObject({ 'sos.pressed': 1, heartbeat: 1 });
    expect(site.rows('z1-smoke')).toMatchObject({ 'smoke.test': 1, heartbeat: 2 });
    expect(site.rows('z1-smoke')['smoke.detected']).toBeUndefined();
  }, 60_000);

  it('property: generated days with hub restarts store one SOS per press and never a fire for a test', async () => {
    const dirs = [tempDir('carehub-z2m-prop-')];
    site = new Site(dirs[0] as string);
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(z2mStep, { minLength: 4, maxLength: 14 }),
        async (cachesAction, steps) => {
          await site.stop();
          const dir = tempDir('carehub-z2m-prop-');
          dirs.push(dir);
          site = new Site(dir);
          await site.start();
          const model = new Z2mModel(cachesAction);
          // The generated restarts, and one in the middle of every day.
          for (const [i, step] of steps.entries()) {
            if (step.do === 'hubRestart' || i === Math.floor(steps.length / 2)) await site.restart();
            if (step.do === 'hubRestart') continue;
            for (const m of model.apply(step)) {
              await site.publish(FRIENDLY[m.device], m.payload);
              const sos = site.rows(DEVICE.pendant)['sos.pressed'] ?? 0;
              const smoke = site.rows(DEVICE.smoke);
              expect(sos, JSON.stringify(m.payload)).toBe(model.expected.presses + model.expected.ambiguous);
              expect(smoke['smoke.detected'] ?? 0, JSON.stringify(m.payload)).toBe(model.expected.fires);
              expect(smoke['smoke.test'] ?? 0, JSON.stringify(m.payload)).toBe(model.expected.tests);
            }
          }
          if (!cachesAction) expect(model.expected.ambiguous).toBe(0);
        },
      ),
      { numRuns: 6 },
    );
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 120_000);
});
