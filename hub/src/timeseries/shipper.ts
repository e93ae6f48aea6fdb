import type { Logger } from '../log.js';
import type { StreamName } from '../model/outbox-rows.js';
import type { Db } from '../store/sqlite-db.js';
import { DROP_ORDER, Outbox, type OutboxRow, SHIP_ORDER } from '../store/ts-outbox.js';
import { toLine } from './influx2-backend.js';
import { feedPoint, type HubFigures, homesOf, journalPoint, type KindOf, metricsPoint } from './points.js';
import {
  DEFAULT_RETENTION_MS,
  HOME_MEASUREMENTS,
  MEASUREMENT_NAMES,
  type MeasurementName,
} from './schema.js';
import type { StoreMetrics } from './store-metrics.js';
import type { TimeSeriesBackend, TimeSeriesHealth, TsPoint } from './types.js';
import { droppedCount, isRejected, statusOf } from './write-errors.js';

export interface ShipperOptions {
  batchSize: number;
  flushIntervalMs: number;
  maxBacklogRows: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** hub_metrics sampling; 0 = off. */
  metricsIntervalMs: number;
  /** hub_metrics points kept in memory while the store is down (they are not in SQLite). */
  metricsQueueMax: number;
  retentionMs: Readonly<Record<MeasurementName, number>>;
  /** Retention purge job; 0 = off. */
  purgeIntervalMs: number;
  /** How long stop() waits for a write in flight. */
  stopTimeoutMs: number;
  site: string;
}

export const DEFAULT_SHIPPER_OPTIONS: Omit<
  ShipperOptions,
  'batchSize' | 'flushIntervalMs' | 'maxBacklogRows' | 'site'
> = {
  backoffInitialMs: 500,
  backoffMaxMs: 15_000,
  metricsIntervalMs: 10_000,
  metricsQueueMax: 8640,
  retentionMs: DEFAULT_RETENTION_MS,
  purgeIntervalMs: 3600_000,
  stopTimeoutMs: 5000,
};

export interface ShipperDeps {
  db: Db;
  backend: TimeSeriesBackend;
  kindOf: KindOf;
  metrics: StoreMetrics;
  log: Logger;
  /** The hub clock: row times come from it, so hub_metrics points are stamped with it too. */
  now: () => number;
  /** Live figures for hub_metrics. */
  figures?: (() => Promise<Pick<HubFigures, 'connectedDevices' | 'journalLagRows'>>) | undefined;
}

interface Shipment {
  point: TsPoint;
  stream: StreamName | 'metrics';
  seq: number;
}

type CycleResult = 'idle' | 'more' | 'failed';

const BACKLOG_CACHE_MS = 2000;
/** Below this many rows, counting the backlog costs well under a millisecond. */
const EXACT_BACKLOG_ROWS = 50_000;

/**
 * Ships the SQLite outbox (journal, feed_log) and hub figures to the time-series backend. At least
 * once: a cursor moves only after a 2xx (or after the refused points went to ts_dead_letter), and
 * re-shipped rows give identical points, so InfluxDB overwrites them. One operation on the backend
 * at a time (writes, purges, retention deletes are serialised).
 */
export class Shipper {
  readonly outbox: Outbox;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  #metricsTimer: NodeJS.Timeout | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #initialized = false;
  #failures = 0;
  #reachable: boolean | null = null;
  #lastError: TimeSeriesHealth['lastError'] = null;
  #lastSuccessAt: number | null = null;
  #metricsQueue: TsPoint[] = [];
  #lastSample: { seq: number; wall: number } | undefined;
  #backlogCache: { at: number; rows: Record<StreamName, number> } | undefined;
  #counts = { shipped: 0, droppedTelemetry: 0, droppedAlerts: 0 };

  constructor(
    private readonly deps: ShipperDeps,
    private readonly options: ShipperOptions,
  ) {
    this.outbox = new Outbox(deps.db);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
    if (this.options.metricsIntervalMs > 0) {
      this.#metricsTimer = setInterval(() => void this.sampleFigures(), this.options.metricsIntervalMs);
      this.#metricsTimer.unref();
    }
    if (this.options.purgeIntervalMs > 0) {
      this.#purgeTimer = setInterval(
        () => void this.purgeExpired().catch(() => undefined),
        this.options.purgeIntervalMs,
      );
      this.#purgeTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#metricsTimer);
    clearInterval(this.#purgeTimer);
    let timeout: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      this.#chain.then(() => true),
      new Promise<boolean>((resolve) => {
        timeout = setTimeout(() => resolve(false), this.options.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    if (!waited)
      this.deps.log.warn('time-series write still in flight at stop; its rows ship again at the next start');
    await this.deps.backend.close();
  }

  /** Ship everything shippable now (tests, tools). Rejects with the store's error when it is down. */
  async flush(): Promise<void> {
    for (;;) {
      const r = await this.#exclusive(() => this.#cycle());
      if (r === 'failed') throw new Error(this.#lastError?.message ?? 'time-series store unavailable');
      if (r === 'idle') {
        this.#backlogCache = undefined;
        return;
      }
    }
  }

  retainFloor(): number {
    return this.outbox.retainFloor();
  }

  /** The newest journal seq already shipped: older journal rows may be trimmed. */
  journalShipped(): number {
    return this.outbox.cursor('journal');
  }

  /** Exact rows per stream; counted afresh while the backlog is small, cached for 2 s while it is large. */
  backlogRows(): Record<StreamName, number> {
    const now = Date.now();
    const cheap = this.#dbOpen() && this.outbox.backlogUpperBound() <= EXACT_BACKLOG_ROWS;
    if (cheap || !this.#backlogCache || now - this.#backlogCache.at > BACKLOG_CACHE_MS) {
      const rows = { feed_alert: 0, feed_device: 0, journal: 0 };
      if (this.#dbOpen()) for (const s of SHIP_ORDER) rows[s] = this.outbox.backlog(s);
      this.#backlogCache = { at: now, rows };
    }
    return this.#backlogCache.rows;
  }

  health(): TimeSeriesHealth {
    const backlog = this.backlogRows();
    for (const [stream, n] of Object.entries(backlog)) this.deps.metrics.backlog.set({ stream }, n);
    this.deps.metrics.backlog.set({ stream: 'metrics' }, this.#metricsQueue.length);
    return {
      backend: this.deps.backend.kind,
      target: this.deps.backend.target,
      reachable: this.#reachable,
      backlogRows: { ...backlog, metrics: this.#metricsQueue.length },
      lastError: this.#lastError,
      lastSuccessAt: this.#lastSuccessAt === null ? null : new Date(this.#lastSuccessAt).toISOString(),
      shippedPoints: this.#counts.shipped,
      deadLetters: this.#dbOpen() ? this.outbox.deadLetterCount() : 0,
      droppedTelemetryRows: this.#counts.droppedTelemetry,
      droppedAlertRows: this.#counts.droppedAlerts,
    };
  }

  /** Take one hub_metrics sample into the in-memory queue. */
  async sampleFigures(): Promise<void> {
    if (!this.#dbOpen()) return;
    const seq = this.outbox.maxSeq('journal');
    const wall = Date.now();
    const prev = this.#lastSample;
    this.#lastSample = { seq, wall };
    const seconds = prev ? (wall - prev.wall) / 1000 : 0;
    const live = (await this.deps.figures?.().catch(() => undefined)) ?? {
      connectedDevices: 0,
      journalLagRows: 0,
    };
    if (!this.#dbOpen()) return;
    this.#backlogCache = undefined;
    const backlog = this.backlogRows();
    this.#metricsQueue.push(
      metricsPoint({
        atMs: this.deps.now(),
        site: this.options.site,
        connectedDevices: live.connectedDevices,
        journalLagRows: live.journalLagRows,
        ingestRate: prev && seconds > 0 ? Math.max(0, seq - prev.seq) / seconds : 0,
        backlogRows: backlog.journal + backlog.feed_alert + backlog.feed_device,
      }),
    );
    const over = this.#metricsQueue.length - this.options.metricsQueueMax;
    if (over > 0) {
      this.#metricsQueue.splice(0, over);
      this.#counts.droppedTelemetry += over;
      this.deps.metrics.droppedTelemetry.inc(over);
    }
  }

  /** Apply queued resident purges to the backend now. Resolves true when none is left pending. */
  async applyPurgesNow(): Promise<boolean> {
    return this.#exclusive(async () => {
      try {
        await this.#applyPurges();
        return true;
      } catch (err) {
        this.#failed(err);
        return false;
      }
    });
  }

  /** Retention job: delete points older than each measurement's retention. */
  async purgeExpired(): Promise<Array<{ measurement: MeasurementName; before: string }>> {
    return this.#exclusive(async () => {
      const done: Array<{ measurement: MeasurementName; before: string }> = [];
      const now = this.deps.now();
      for (const measurement of MEASUREMENT_NAMES) {
        const keep = this.options.retentionMs[measurement];
        if (!(keep > 0)) continue;
        const before = now - keep;
        try {
          await this.deps.backend.deleteBefore(measurement, before);
          done.push({ measurement, before: new Date(before).toISOString() });
        } catch (err) {
          this.deps.log.warn(
            { measurement, code: (err as { code?: string }).code, reason: (err as Error).message },
            'retention purge failed; retried at the next run',
          );
          throw err;
        }
      }
      if (done.length) this.deps.log.info({ purged: done }, 'time-series retention applied');
      return done;
    });
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delay);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    const result = await this.#exclusive(() => this.#cycle());
    if (this.#stopped) return;
    if (result === 'more') this.#schedule(0);
    else if (result === 'failed') this.#schedule(this.#backoffDelay());
    else this.#schedule(this.options.flushIntervalMs);
  }

  #backoffDelay(): number {
    const exp = this.options.backoffInitialMs * 2 ** Math.min(20, Math.max(0, this.#failures - 1));
    return Math.min(this.options.backoffMaxMs, exp);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #dbOpen(): boolean {
    return this.outbox.open;
  }

  async #cycle(): Promise<CycleResult> {
    if (!this.#dbOpen()) return 'idle';
    try {
      // first, and whether or not the store answers: the bound matters most during an outage
      this.#enforceBound();
      if (!this.#initialized) {
        await this.deps.backend.init();
        this.#initialized = true;
      }
      await this.#applyPurges();
      if (!this.#dbOpen()) return 'idle';
      const { shipments, cursors, metricsTaken, full } = this.#collect();
      if (shipments.length > 0) await this.#send(shipments);
      if (!this.#dbOpen()) return 'idle';
      this.outbox.advance(cursors);
      this.#metricsQueue.splice(0, metricsTaken);
      this.#succeeded(shipments.length);
      this.health();
      return full ? 'more' : 'idle';
    } catch (err) {
      this.#failed(err);
      if (this.#dbOpen()) this.health(); // keep carehub_store_backlog_rows current during an outage
      return 'failed';
    }
  }

  #collect(): {
    shipments: Shipment[];
    cursors: Array<readonly [StreamName, number]>;
    metricsTaken: number;
    full: boolean;
  } {
    let remaining = this.options.batchSize;
    const shipments: Shipment[] = [];
    const cursors: Array<readonly [StreamName, number]> = [];
    for (const stream of SHIP_ORDER) {
      const read = this.outbox.read(stream, remaining);
      remaining -= read.rows.length;
      for (const row of read.rows) {
        const point = this.#toPoint(row);
        if (point) shipments.push({ point, stream, seq: row.seq });
      }
      if (read.next > this.outbox.cursor(stream)) cursors.push([stream, read.next] as const);
    }
    const metricsTaken = Math.min(remaining, this.#metricsQueue.length);
    for (let i = 0; i < metricsTaken; i++) {
      const point = this.#metricsQueue[i];
      if (point) shipments.push({ point, stream: 'metrics', seq: i });
    }
    remaining -= metricsTaken;
    return { shipments, cursors, metricsTaken, full: remaining <= 0 };
  }

  #toPoint(row: OutboxRow): TsPoint | undefined {
    return row.stream === 'journal' ? journalPoint(row, this.deps.kindOf) : feedPoint(row, this.deps.kindOf);
  }

  /** Write; on a point-level refusal split the batch until the refused points are isolated and dead-lettered. */
  async #send(shipments: Shipment[]): Promise<void> {
    try {
      await this.deps.backend.write(shipments.map((s) => s.point));
    } catch (err) {
      if (!isRejected(err)) throw err;
      this.deps.metrics.writeFailures.inc({ kind: 'rejected' });
      if (shipments.length > 1 && droppedCount(err.message) !== shipments.length) {
        const mid = shipments.length >> 1;
        await this.#send(shipments.slice(0, mid));
        await this.#send(shipments.slice(mid));
        return;
      }
      this.#deadLetter(shipments, err);
    }
  }

  #deadLetter(shipments: Shipment[], err: Error): void {
    if (!this.#dbOpen()) return;
    const ranges = new Map<string, { min: number; max: number }>();
    for (const s of shipments) {
      const r = ranges.get(s.stream);
      if (!r) ranges.set(s.stream, { min: s.seq, max: s.seq });
      else {
        r.min = Math.min(r.min, s.seq);
        r.max = Math.max(r.max, s.seq);
      }
    }
    const streams = [...ranges]
      .map(([k, r]) => (r.min === r.max ? `${k}:${r.min}` : `${k}:${r.min}-${r.max}`))
      .join(',');
    const lines = shipments
      .map((s) => {
        try {
          return toLine(s.point);
        } catch {
          return JSON.stringify(s.point);
        }
      })
      .join('\n');
    this.outbox.deadLetter({
      at: Date.now(),
      streams,
      homes: homesOf(shipments.map((s) => s.point)),
      status: statusOf(err),
      message: err.message,
      points: shipments.length,
      lines,
    });
    this.deps.metrics.deadLetters.inc(shipments.length);
    this.deps.log.error(
      { streams, points: shipments.length, status: statusOf(err), reason: err.message },
      'time-series store refused points; kept in ts_dead_letter',
    );
  }

  #enforceBound(): void {
    const max = this.options.maxBacklogRows;
    if (this.outbox.backlogUpperBound() <= max) return;
    const rows = { feed_alert: 0, feed_device: 0, journal: 0 };
    for (const s of SHIP_ORDER) rows[s] = this.outbox.backlog(s);
    let excess = rows.feed_alert + rows.feed_device + rows.journal - max;
    for (const stream of DROP_ORDER) {
      if (excess <= 0) break;
      const skipped = this.outbox.skip(stream, Math.min(excess, rows[stream]));
      excess -= skipped;
      if (skipped === 0) continue;
      if (stream === 'feed_alert') {
        this.#counts.droppedAlerts += skipped;
        this.deps.metrics.droppedAlerts.inc(skipped);
        this.deps.log.error(
          { stream, rows: skipped, maxBacklogRows: max },
          'time-series backlog full even without telemetry: oldest alert rows skipped',
        );
      } else {
        this.#counts.droppedTelemetry += skipped;
        this.deps.metrics.droppedTelemetry.inc(skipped);
        this.deps.log.warn(
          { stream, rows: skipped, maxBacklogRows: max },
          'time-series backlog full: oldest telemetry skipped',
        );
      }
    }
    this.#backlogCache = undefined;
  }

  async #applyPurges(): Promise<void> {
    for (const purge of this.outbox.pendingPurges()) {
      try {
        for (const measurement of HOME_MEASUREMENTS)
          await this.deps.backend.deleteWhere(measurement, { home: purge.homeId });
      } catch (err) {
        if (!isRejected(err)) throw err;
        // Refused outright: record it where an operator looks, never block shipping on it.
        this.outbox.deadLetter({
          at: Date.now(),
          streams: `purge:${purge.homeId}`,
          homes: [purge.homeId],
          status: statusOf(err),
          message: err.message,
          points: 0,
          lines: '',
        });
        this.deps.log.error(
          { home: purge.homeId, reason: err.message },
          'time-series store refused a resident purge; see ts_dead_letter',
        );
      }
      if (!this.#dbOpen()) return;
      this.outbox.purgeDone(purge.id);
      this.deps.log.info({ home: purge.homeId }, 'resident data purged from the time-series store');
    }
  }

  #succeeded(points: number): void {
    if (this.#reachable === false) {
      this.deps.log.info(
        { afterFailures: this.#failures },
        'time-series store reachable again; draining the backlog',
      );
    }
    this.#reachable = true;
    this.#failures = 0;
    if (points > 0) {
      this.#lastSuccessAt = Date.now();
      this.#counts.shipped += points;
      this.deps.metrics.shipped.inc(points);
      this.deps.metrics.lastSuccess.set(this.#lastSuccessAt / 1000);
    }
  }

  #failed(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    this.#failures++;
    this.#reachable = false;
    this.#lastError = {
      at: new Date().toISOString(),
      code: typeof code === 'string' ? code : 'HUB_ERR_STORE_UNAVAILABLE',
      message,
    };
    this.deps.metrics.writeFailures.inc({ kind: 'unavailable' });
    if (statusOf(err) === 404) this.#initialized = false; // database dropped or never created: run init again
    const entry = {
      failures: this.#failures,
      retryInMs: this.#backoffDelay(),
      reason: message,
      target: this.deps.backend.target,
    };
    if (this.#failures === 1 || this.#failures % 20 === 0)
      this.deps.log.warn(entry, 'time-series store unavailable; backlog kept in SQLite');
    else this.deps.log.debug(entry, 'time-series store still unavailable');
  }
}
