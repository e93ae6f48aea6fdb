import { rmSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { FeedLog } from '../../hub/src/store/feed-log.js';
import { Journal } from '../../hub/src/store/journal.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { UnitOfWork } from '../../hub/src/store/unit-of-work.js';
import type { MeasurementName } from '../../hub/src/timeseries/schema.js';
import { DEFAULT_SHIPPER_OPTIONS, Shipper, type ShipperOptions } from '../../hub/src/timeseries/shipper.js';
import { storeMetrics } from '../../hub/src/timeseries/store-metrics.js';
import type { SelectQuery, SelectRow, TimeSeriesBackend, TsPoint } from '../../hub/src/timeseries/types.js';
import { httpFailure, networkFailure } from '../../hub/src/timeseries/write-errors.js';
import { tempDir } from '../helpers/hub.js';

/**
 * A scripted backend: this unit test needs to decide when the store is down, what it refuses and
 * when a write completes. It stores points by series + timestamp like InfluxDB (overwrite on
 * rewrite). The real backends are covered by test/integration/influx-backend-contract.test.ts.
 */
class ScriptedBackend implements TimeSeriesBackend {
  readonly kind = 'influxdb1' as const;
  readonly target = 'scripted';
  readonly stored = new Map<string, TsPoint>();
  readonly batches: TsPoint[][] = [];
  readonly attempts: number[] = [];
  readonly deletes: Array<{ measurement: MeasurementName; tags: Record<string, string> }> = [];
  down = false;
  /** Refuse a whole batch (like 1.x on a type conflict) when it holds a matching point. */
  refuse: ((p: TsPoint) => string | undefined) | undefined;
  refuseDelete = false;
  hold: Promise<void> | undefined;

  async init(): Promise<void> {
    if (this.down) this.attempts.push(Date.now());
    if (this.down)
      throw networkFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
  }
  async write(points: readonly TsPoint[]): Promise<void> {
    this.attempts.push(Date.now());
    if (this.hold) await this.hold;
    if (this.down)
      throw networkFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const why = this.refuse && points.map((p) => this.refuse?.(p)).find((m) => m !== undefined);
    if (why) throw httpFailure(400, why);
    this.batches.push([...points]);
    for (const p of points) this.stored.set(`${p.measurement},${JSON.stringify(p.tags)} ${p.timeNs}`, p);
  }
  async select(_q: SelectQuery): Promise<SelectRow[]> {
    return [];
  }
  async deleteWhere(measurement: MeasurementName, tags: Readonly<Record<string, string>>): Promise<void> {
    if (this.down) throw networkFailure(new Error('down'));
    if (this.refuseDelete) throw httpFailure(400, 'error parsing query: bad predicate');
    this.deletes.push({ measurement, tags: { ...tags } });
  }
  async deleteBefore(): Promise<void> {}
  async ping(): Promise<boolean> {
    return !this.down;
  }
  async close(): Promise<void> {}
  points(measurement: MeasurementName): TsPoint[] {
    return [...this.stored.values()].filter((p) => p.measurement === measurement);
  }
}

const T = Date.parse('2026-11-26T09:30:00.000+08:00');
const log = createLogger('silent');
let dir: string;
let db: Db;
let journal: Journal;
let feedLog: FeedLog;
let backend: ScriptedBackend;
let registry: Registry;
const shippers: Shipper[] = [];

beforeEach(() => {
  dir = tempDir('carehub-ts-');
  db = openDatabase(dir);
  journal = new Journal(db, new UnitOfWork(db), log);
  feedLog = new FeedLog(db);
  backend = new ScriptedBackend();
  registry = new Registry();
});

afterEach(async () => {
  await Promise.all(shippers.splice(0).map((s) => s.stop()));
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function shipper(
  over: Partial<ShipperOptions> = {},
  figures?: () => Promise<{ connectedDevices: number; journalLagRows: number }>,
): Shipper {
  const s = new Shipper(
    {
      db,
      backend,
      kindOf: (id) => (id.endsWith('-sos') ? 'sos_button' : id.endsWith('-door') ? 'door_sensor' : undefined),
      metrics: storeMetrics(registry),
      log,
      now: () => T,
      figures,
    },
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      batchSize: 100,
      flushIntervalMs: 20,
      maxBacklogRows: 1_000_000,
      backoffInitialMs: 20,
      backoffMaxMs: 160,
      metricsIntervalMs: 0,
      purgeIntervalMs: 0,
      stopTimeoutMs: 2000,
      site: 'test site',
      ...over,
    },
  );
  shippers.push(s);
  return s;
}

async function events(n: number, device = 'h1-door', type = 'heartbeat', at = T): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      journal.append({
        deviceId: device,
        homeId: device.split('-')[0] ?? 'h1',
        receivedAt: at + i,
        type,
        payload: JSON.stringify({ type, battery: 90 }),
      }),
    ),
  );
}

function alerts(n: number, prefix = 'al', home = 'h1'): void {
  for (let i = 0; i < n; i++) {
    const alert = {
      id: `${prefix}-${i}`,
      version: 1,
      kind: 'sos',
      severity: 'critical',
      status: 'open',
      homeId: home,
      raisedAt: new Date(T).toISOString(),
      updatedAt: new Date(T).toISOString(),
      occurrences: 1,
      escalationLevel: 0,
    };
    feedLog.append(T + i, 'alert', home, { type: 'alert', alert });
  }
}

function deviceChange(id: string, online: boolean): void {
  feedLog.append(T, 'device', 'h1', {
    type: 'device',
    device: { id, homeId: 'h1', online, battery: 50, lastSeen: new Date(T).toISOString() },
  });
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  const values = (await m?.get())?.values ?? [];
  return values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  )?.value;
}

describe('Shipper: the SQLite outbox to the time-series store', () => {
  it('ships journal and feed_log rows, alerts first, and moves each cursor after the 2xx', async () => {
    await events(3);
    alerts(2);
    deviceChange('h1-door', false);
    const s = shipper();
    await s.flush();
    expect(backend.batches).toHaveLength(1);
    expect(backend.batches[0]?.map((p) => p.measurement)).toEqual([
      'alert',
      'alert',
      'device_status',
      'device_event',
      'device_event',
      'device_event',
    ]);
    expect(s.outbox.cursor('journal')).toBe(journal.lastSeq());
    expect(s.outbox.cursor('feed_alert')).toBe(feedLog.currentSeq());
    expect(s.outbox.cursor('feed_device')).toBe(feedLog.currentSeq());
    expect(s.health()).toMatchObject({
      reachable: true,
      shippedPoints: 6,
      backlogRows: { journal: 0, feed_alert: 0, feed_device: 0 },
    });
    expect(await metric('carehub_store_shipped_points_total')).toBe(6);
  });

  it('keeps everything in SQLite while the store is down and drains it, exactly, when it returns', async () => {
    const s = shipper();
    await events(5);
    alerts(3);
    backend.down = true;
    await expect(s.flush()).rejects.toThrow(/ECONNREFUSED/);
    expect(s.outbox.cursor('journal')).toBe(0);
    expect(s.outbox.cursor('feed_alert')).toBe(0);
    const h = s.health();
    expect(h).toMatchObject({ reachable: false, backlogRows: { journal: 5, feed_alert: 3 } });
    expect(h.lastError?.code).toBe('HUB_ERR_STORE_UNAVAILABLE');
    expect(await metric('carehub_store_backlog_rows', { stream: 'journal' })).toBe(5);
    backend.down = false;
    await s.flush();
    expect(backend.points('device_event')).toHaveLength(5);
    expect(backend.points('alert').map((p) => p.fields.alert_id)).toEqual(['al-0', 'al-1', 'al-2']);
    expect(s.health()).toMatchObject({ reachable: true, backlogRows: { journal: 0, feed_alert: 0 } });
  });

  it('backs off exponentially while the store is down (not one attempt per flush interval)', async () => {
    await events(1);
    backend.down = true;
    const s = shipper({ flushIntervalMs: 10, backoffInitialMs: 40, backoffMaxMs: 320 });
    s.start();
    await new Promise((r) => setTimeout(r, 900));
    await s.stop();
    const n = backend.attempts.length;
    // 40+80+160+320 ≈ 600 ms: about 5 attempts; a fixed 10 ms interval would have made ~80
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(8);
    const gaps = backend.attempts.slice(1).map((t, i) => t - (backend.attempts[i] ?? t));
    expect(gaps[2]).toBeGreaterThan(gaps[0] ?? 0);
    backend.down = false;
  });

  it('dead-letters a refused point (4xx) with the store’s message, ships the rest and moves on', async () => {
    alerts(9);
    await events(4);
    backend.refuse = (p) =>
      p.fields.alert_id === 'al-5'
        ? 'partial write: field type conflict: input field "x" dropped=1'
        : undefined;
    const s = shipper();
    await s.flush();
    expect(
      backend
        .points('alert')
        .map((p) => p.fields.alert_id)
        .sort(),
    ).toEqual(['al-0', 'al-1', 'al-2', 'al-3', 'al-4', 'al-6', 'al-7', 'al-8']);
    expect(backend.points('device_event')).toHaveLength(4);
    const dead = db
      .prepare('SELECT streams, homes, status, message, points, lines FROM ts_dead_letter')
      .all() as Array<Record<string, unknown>>;
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ streams: 'feed_alert:6', homes: ',h1,', status: 400, points: 1 });
    expect(String(dead[0]?.message)).toMatch(/field type conflict/);
    expect(String(dead[0]?.lines)).toMatch(/^alert,home=h1,.*alert_id="al-5"/);
    expect(s.outbox.cursor('feed_alert')).toBe(feedLog.currentSeq());
    expect(s.health().deadLetters).toBe(1);
    expect(await metric('carehub_store_dead_letters_total')).toBe(1);
    // nothing is retried forever: the next flush writes nothing new
    const writes = backend.attempts.length;
    await s.flush();
    expect(backend.attempts.length).toBe(writes);
  });

  it('dead-letters a batch the store dropped entirely in one entry, without splitting it', async () => {
    alerts(5);
    backend.refuse = () => 'partial write: points beyond retention policy dropped=5';
    const s = shipper();
    await s.flush();
    expect(backend.attempts).toHaveLength(1);
    expect(db.prepare('SELECT streams, points FROM ts_dead_letter').all()).toEqual([
      { streams: 'feed_alert:1-5', points: 5 },
    ]);
  });

  it('re-shipping rows after a lost cursor overwrites instead of duplicating', async () => {
    alerts(4);
    await events(6);
    const s = shipper();
    await s.flush();
    db.exec('DELETE FROM ts_cursor'); // as if the hub died between the 2xx and the cursor commit
    await s.flush();
    expect(backend.batches).toHaveLength(2);
    expect(backend.stored.size).toBe(10);
  });

  it('past maxBacklogRows skips telemetry oldest-first, counted, and keeps every alert', async () => {
    const s = shipper({ maxBacklogRows: 10, batchSize: 1000 });
    backend.down = true;
    await events(20, 'h1-door', 'heartbeat');
    alerts(5);
    deviceChange('h1-door', false);
    await expect(s.flush()).rejects.toThrow();
    // bounded while the store is still down
    expect(s.health()).toMatchObject({
      reachable: false,
      backlogRows: { journal: 4, feed_alert: 5, feed_device: 1 },
    });
    expect(s.retainFloor()).toBe(1);
    backend.down = false;
    await s.flush();
    expect(backend.points('alert')).toHaveLength(5);
    expect(backend.points('device_status')).toHaveLength(1);
    const kept = backend.points('device_event').map((p) => p.fields.seq);
    expect(kept).toEqual([17, 18, 19, 20]); // 26 rows, bound 10: the 16 oldest heartbeats skipped
    expect(s.health()).toMatchObject({ droppedTelemetryRows: 16, droppedAlertRows: 0 });
    expect(await metric('carehub_store_dropped_telemetry_total')).toBe(16);
  });

  it('drops alert rows only when no telemetry is left to skip', async () => {
    const s = shipper({ maxBacklogRows: 10 });
    backend.down = true;
    await events(2);
    alerts(12);
    await expect(s.flush()).rejects.toThrow();
    expect(s.health()).toMatchObject({ backlogRows: { journal: 0, feed_alert: 10 }, droppedAlertRows: 2 });
    backend.down = false;
    await s.flush();
    expect(backend.points('device_event')).toHaveLength(0);
    expect(backend.points('alert').map((p) => p.fields.alert_id)).toEqual([
      'al-2',
      'al-3',
      'al-4',
      'al-5',
      'al-6',
      'al-7',
      'al-8',
      'al-9',
      'al-10',
      'al-11',
    ]);
    expect(s.health()).toMatchObject({ droppedTelemetryRows: 2, droppedAlertRows: 2 });
  });

  it('reports the lowest unshipped feed_log seq so the feed-log trim keeps what is not shipped', async () => {
    const s = shipper();
    alerts(10);
    await s.flush();
    expect(s.retainFloor()).toBe(11);
    backend.down = true;
    alerts(5, 'late');
    deviceChange('h1-door', false);
    await expect(s.flush()).rejects.toThrow();
    expect(s.retainFloor()).toBe(11);
    // the hub's trim (main.ts #trimFeedLog) with feed.retainEvents = 2
    const floor = s.retainFloor();
    feedLog.trim(Math.max(2, feedLog.currentSeq() - floor + 1));
    expect(feedLog.oldestSeq()).toBe(11);
    backend.down = false;
    await s.flush();
    expect(backend.points('alert').filter((p) => String(p.fields.alert_id).startsWith('late'))).toHaveLength(
      5,
    );
    expect(s.retainFloor()).toBe(feedLog.currentSeq() + 1);
  });

  it('applies a queued resident purge before shipping, and never blocks shipping on a refused one', async () => {
    const s = shipper();
    s.outbox.enqueuePurge('h2', T);
    alerts(1);
    await s.flush();
    expect(backend.deletes).toEqual([
      { measurement: 'device_event', tags: { home: 'h2' } },
      { measurement: 'device_status', tags: { home: 'h2' } },
      { measurement: 'alert', tags: { home: 'h2' } },
    ]);
    expect(s.outbox.pendingPurges()).toEqual([]);
    backend.refuseDelete = true;
    s.outbox.enqueuePurge('h3', T);
    alerts(1, 'next');
    await s.flush();
    expect(s.outbox.pendingPurges()).toEqual([]);
    expect(backend.points('alert')).toHaveLength(2);
    expect(db.prepare('SELECT streams FROM ts_dead_letter').all()).toEqual([{ streams: 'purge:h3' }]);
  });

  it('samples hub_metrics (ingest rate, connected devices, backlog) and ships them', async () => {
    const s = shipper({}, async () => ({ connectedDevices: 4, journalLagRows: 0 }));
    await s.sampleFigures();
    await events(10);
    await new Promise((r) => setTimeout(r, 50));
    await s.sampleFigures();
    await s.flush();
    const m = backend.points('hub_metrics');
    expect(m.length).toBeGreaterThanOrEqual(1); // same clock time: the second sample overwrites the first
    const last = m.at(-1)!;
    expect(last.tags).toEqual({ site: 'test site' });
    expect(last.fields.connected_devices).toBe(4);
    expect(last.fields.backlog_rows).toBe(10);
    expect(Number(last.fields.ingest_rate)).toBeGreaterThan(0);
    expect(s.health().backlogRows.metrics).toBe(0);
  });

  it('stop() waits for the write in flight, then moves the cursor; nothing runs after stop', async () => {
    alerts(2);
    let release: () => void = () => {};
    backend.hold = new Promise<void>((r) => {
      release = r;
    });
    const s = shipper();
    s.start();
    await expect.poll(() => backend.attempts.length).toBe(1);
    let stopped = false;
    const stopping = s.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(s.outbox.cursor('feed_alert')).toBe(2);
    alerts(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(backend.attempts).toHaveLength(1);
  });
});
