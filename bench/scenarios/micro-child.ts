/**
 * In-process micro benchmarks, run in a child process of their own (clean heap, --expose-gc):
 *   rules <dir> <homes> <events>   rules engine events/s with every home's state loaded; memory per home
 *   journal <dir> <seconds>        journal group commit rows/s and fsyncs/s, against raw SQLite and raw fdatasync
 * Prints one line `RESULT <json>`.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../../hub/src/config/load.js';
import { createLogger } from '../../hub/src/log.js';
import { Hub } from '../../hub/src/main.js';
import type { DeviceEvent } from '../../hub/src/protocol/events.js';
import { Journal } from '../../hub/src/store/journal.js';
import { openDatabase } from '../../hub/src/store/sqlite-db.js';
import { UnitOfWork } from '../../hub/src/store/unit-of-work.js';
import { BENCH_SCRYPT_N, generateSite } from '../lib/site.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, external: m.external };
};

async function rules(dir: string, homes: number, events: number): Promise<unknown> {
  const site = await generateSite({
    dir,
    loadDevices: Math.max(0, homes - 100) * 3,
    scryptN: BENCH_SCRYPT_N,
    kinds: ['sos_button', 'door_sensor', 'motion_sensor'],
    logLevel: 'silent',
  });
  let t = performance.now();
  const config = loadConfigFile(site.configFile, { CAREHUB_DATA_DIR: site.dataDir });
  const configMs = performance.now() - t;
  const hub = new Hub(config, { logger: createLogger('silent'), processMetrics: false });
  const m0 = mem();
  t = performance.now();
  const now = Date.now();
  hub.store.uow.run(() => hub.core.rules.ensureAll(now));
  hub.core.scheduler.start();
  const loadMs = performance.now() - t;
  const m1 = mem();
  const list = config.homes;
  const doorOpen = new Set<string>();
  const make = (i: number): DeviceEvent => {
    const home = list[(i * 7919) % list.length] as (typeof list)[number];
    const device = home.devices[i % home.devices.length] as (typeof home.devices)[number];
    let type: DeviceEvent['type'] = 'heartbeat';
    if (device.kind === 'door_sensor' && i % 2 === 0) {
      type = doorOpen.has(device.id) ? 'door.closed' : 'door.opened';
      if (type === 'door.opened') doorOpen.add(device.id);
      else doorOpen.delete(device.id);
    } else if (device.kind === 'motion_sensor' && i % 2 === 0) type = 'motion.detected';
    return { seq: i + 1, deviceId: device.id, homeId: home.id, at: Date.now(), type, battery: 90, rssi: -60 };
  };
  const evs = Array.from({ length: events }, (_, i) => make(i));
  let changes = 0;
  t = performance.now();
  for (let i = 0; i < evs.length; i += 500) {
    hub.store.uow.run(() => {
      for (const e of evs.slice(i, i + 500)) changes += hub.core.rules.onEvent(e).length;
    });
  }
  const rulesMs = performance.now() - t;
  // The whole post-journal pipeline: journal rows → state machine (applier: rules, alerts, device state, feed log).
  const rows = Math.min(events, 50_000);
  const insert = hub.store.db.prepare(
    'INSERT INTO journal(device_id, home_id, received_at, type, event_id, payload) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const offset = hub.store.journal.lastSeq();
  hub.store.db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const e = make(events + i);
      insert.run(
        e.deviceId,
        e.homeId,
        e.at,
        e.type,
        `m${i}`,
        JSON.stringify({ type: e.type, id: `m${i}`, battery: 90, rssi: -60 }),
      );
    }
  })();
  hub.store.db
    .prepare(
      "INSERT INTO meta(key, value) VALUES ('processed_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .run(String(offset));
  t = performance.now();
  hub.core.machine.drain();
  const procMs = performance.now() - t;
  return {
    homes: list.length,
    devices: list.reduce((n, h) => n + h.devices.length, 0),
    configParseMs: Math.round(configMs),
    loadStateMs: Math.round(loadMs),
    heapPerHomeBytes: Math.round((m1.heap - m0.heap) / list.length),
    rssPerHomeBytes: Math.round((m1.rss - m0.rss) / list.length),
    timersArmed: hub.core.scheduler.pending(),
    events,
    alertChanges: changes,
    rulesEventsPerSecond: Math.round((events * 1000) / rulesMs),
    processorRows: rows,
    processorRowsPerSecond: Math.round((rows * 1000) / procMs),
  };
}

async function journal(dir: string, seconds: number): Promise<unknown> {
  const db = openDatabase(join(dir, 'journal'));
  const j = new Journal(db, new UnitOfWork(db), createLogger('silent'));
  const boot = Date.now().toString(36);
  let n = 0;
  const entry = () => {
    n++;
    const id = `${boot}-${n.toString(36)}`;
    return {
      deviceId: `h${String(n % 10_000).padStart(6, '0')}-door`,
      homeId: `h${String(n % 10_000).padStart(6, '0')}`,
      receivedAt: Date.now(),
      type: 'heartbeat',
      eventId: id,
      mqttMid: (n % 65_535) + 1,
      dup: false,
      payload: `{"type":"heartbeat","id":"${id}","ts":"2025-01-01T00:00:00.000Z","battery":90,"rssi":-60}`,
    };
  };
  const groups: Array<{ perTurn: number; rowsPerSecond: number; commitsPerSecond: number }> = [];
  for (const perTurn of [1, 10, 100, 1000]) {
    const c0 = j.stats.commits;
    let rows = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      await Promise.all(Array.from({ length: perTurn }, () => j.append(entry())));
      rows += perTurn;
    }
    const secs = (performance.now() - t0) / 1000;
    groups.push({
      perTurn,
      rowsPerSecond: Math.round(rows / secs),
      commitsPerSecond: Math.round((j.stats.commits - c0) / secs),
    });
  }
  j.close();
  db.close();
  // Reference 1: the disk itself, 4 KiB write + fdatasync in a loop (an upper bound on durable commits/s).
  const f = openSync(join(dir, 'fsync.bin'), 'w');
  const block = Buffer.alloc(4096, 1);
  let syncs = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    writeSync(f, block, 0, block.length, 0);
    fdatasyncSync(f);
    syncs++;
  }
  const fsyncsPerSecond = Math.round(syncs / ((performance.now() - t0) / 1000));
  closeSync(f);
  // Reference 2: plain SQLite (same pragmas, a plain INSERT), 1000 rows per transaction.
  const raw = openDatabase(join(dir, 'raw'));
  const ins = raw.prepare(
    'INSERT INTO journal(device_id, home_id, received_at, type, event_id, mqtt_mid, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const tx = raw.transaction((batch: ReturnType<typeof entry>[]) => {
    for (const e of batch)
      ins.run(e.deviceId, e.homeId, e.receivedAt, e.type, e.eventId, e.mqttMid, e.payload);
  });
  let rawRows = 0;
  t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    tx(Array.from({ length: 1000 }, entry));
    rawRows += 1000;
  }
  const rawRowsPerSecond = Math.round(rawRows / ((performance.now() - t0) / 1000));
  let rawCommits = 0;
  t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    tx([entry()]);
    rawCommits++;
  }
  const rawCommitsPerSecond = Math.round(rawCommits / ((performance.now() - t0) / 1000));
  raw.close();
  return { groups, fsyncsPerSecond, rawRowsPerSecond, rawCommitsPerSecond };
}

const [mode, dir, a, b] = process.argv.slice(2);
const run = mode === 'rules' ? rules(dir as string, Number(a), Number(b)) : journal(dir as string, Number(a));
run.then(
  (r) => {
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
