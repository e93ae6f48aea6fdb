import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type CliIo, main as sim } from '../../devices-sim/src/cli.js';
import { startHub, type TestHub, tempDir } from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LIMIT_MB = 8;
const LOAD_MS = 40_000;
const DEVICES = 60;
const WINDOW = 16;

/**
 * Issue 23: under sustained closed-loop QoS 1 load (as fast as the hub acknowledges, from real MQTT
 * clients, heartbeats and door events), the WAL file never grows past `store.walLimitMB`. Its size
 * is read after every journal commit, so no peak between two samples is missed (the WAL only grows
 * in a commit). A size, not a speed: the test asserts nothing about the rate reached, only that the
 * load wrote many times the limit through the WAL.
 */
describe('WAL bound under sustained load', () => {
  const dirs: string[] = [];
  let t: TestHub | undefined;
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(`keeps hub.db-wal under ${LIMIT_MB} MB while closed-loop load runs for ${LOAD_MS / 1000} s`, async () => {
    const dir = tempDir('carehub-walbound-');
    dirs.push(dir);
    const file = join(dir, 'site.yaml');
    const io: CliIo = { out: () => {}, err: () => {}, env: {}, cwd: ROOT };
    expect(
      await sim(['gen-config', '--homes', '20', '--out', file, '--hash-cost', '1024', '--skip-check'], io),
    ).toBe(0);
    const raw = parseDocument(readFileSync(file, 'utf8')).toJS() as {
      homes: Array<{ devices: Array<{ id: string; kind: string; demoSecret: string }> }>;
      mqtt?: Record<string, unknown>;
    };
    const devices = raw.homes.flatMap((h) => h.devices).slice(0, DEVICES);
    t = await startHub({
      raw: {
        ...raw,
        store: { walLimitMB: LIMIT_MB },
        // Closed loop from few devices: the per-device rate limit would drop most of it.
        mqtt: { ...raw.mqtt, limits: { publishPerSecond: 1_000_000, publishBurst: 1_000_000 } },
      },
    });
    const hub = t.hub;
    const wal = join(t.dataDir, 'hub.db-wal');
    let max = 0;
    let walled = 0;
    let last = 0;
    hub.store.journal.onCommit(() => {
      const size = statSync(wal).size;
      if (size > last) walled += size - last;
      last = size;
      max = Math.max(max, size);
    });

    for (const d of devices) {
      const c = mqtt.connect(t.mqttUrl, {
        clientId: d.id,
        username: d.id,
        password: d.demoSecret,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
      });
      clients.push(c);
    }

    let acked = 0;
    let failed = 0;
    let running = true;
    const loops = clients.map(async (c, i) => {
      const id = devices[i]?.id as string;
      const door = devices[i]?.kind === 'door_sensor';
      let n = 0;
      const one = async () => {
        while (running) {
          n++;
          const type = door ? (n % 2 ? 'door.opened' : 'door.closed') : 'heartbeat';
          const payload = JSON.stringify({
            type,
            id: `${id}-${n}-${Math.random()}`,
            ts: new Date().toISOString(),
          });
          try {
            await c.publishAsync(`carehub/v1/devices/${id}/events`, payload, { qos: 1 });
            acked++;
          } catch {
            failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, one));
    });
    await new Promise((r) => setTimeout(r, LOAD_MS));
    running = false;
    await Promise.all(loops);

    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    const resets = Number(/^carehub_store_wal_resets_total (\S+)/m.exec(metrics)?.[1] ?? 0);
    expect(failed).toBe(0);
    expect(acked).toBeGreaterThan(5000);
    // The load pushed several times the limit through the WAL (a lower bound: growth of the file
    // only), and the WAL restarted again and again (each time past a quarter of the limit)...
    expect(walled).toBeGreaterThan(2 * LIMIT_MB * 2 ** 20);
    expect(resets).toBeGreaterThanOrEqual(8);
    // ...and the file never passed the limit.
    expect(max).toBeLessThanOrEqual(LIMIT_MB * 2 ** 20);
    expect(max).toBeGreaterThan(0);
  }, 120_000);
});
