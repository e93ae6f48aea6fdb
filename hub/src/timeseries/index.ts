import type { Clock } from '../clock/clock.js';
import type { HubConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { HistoryQuery } from '../model/history.js';
import type { Directory } from '../site/directory.js';
import { eraseFromSqlite, type PurgeOptions } from '../store/erase-home.js';
import { SqliteHistory } from '../store/history-sqlite.js';
import type { Db } from '../store/sqlite-db.js';
import { type BackendOptions, createBackend } from './backend.js';
import { InfluxHistory } from './history-influx.js';
import type { PurgeSummary } from './purge-resident.js';
import { HOME_MEASUREMENTS, type MeasurementName } from './schema.js';
import { DEFAULT_SHIPPER_OPTIONS, Shipper, type ShipperOptions } from './shipper.js';
import { storeMetrics } from './store-metrics.js';
import type { TimeSeriesBackend, TimeSeriesHealth } from './types.js';

export type { AlertCountBucket, DeviceEventRecord, HistoryQuery, ResponseTimes } from '../model/history.js';
export { SqliteHistory } from '../store/history-sqlite.js';
export { createBackend } from './backend.js';
export { InfluxHistory } from './history-influx.js';
export { type PurgeSummary, purgeResident } from './purge-resident.js';
export { MEASUREMENTS, type MeasurementName } from './schema.js';
export type { TimeSeriesBackend, TimeSeriesHealth, TsPoint } from './types.js';

export interface TimeSeriesDeps {
  config: Readonly<HubConfig>;
  db: Db;
  directory: Directory;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  /** Tuning beyond the config's influx section (backoff, hub_metrics interval, retention per measurement…). */
  options?:
    | (Partial<Omit<ShipperOptions, 'retentionMs'>> & {
        retentionMs?: Partial<Record<MeasurementName, number>>;
      } & BackendOptions)
    | undefined;
  /** Replace the backend built from config.influx (tests). */
  backend?: TimeSeriesBackend | undefined;
}

export interface TimeSeries {
  readonly backend: TimeSeriesBackend;
  /** History over the configured time-series store. */
  readonly history: HistoryQuery;
  start(): void;
  stop(): Promise<void>;
  health(): TimeSeriesHealth;
  /** The lowest feed_log seq not yet shipped: the feed-log trim must keep it and everything newer. */
  retainFloor(): number;
  /** The newest journal seq already shipped: the journal trim must keep everything newer. */
  journalShipped(): number;
  /** Ship everything now; rejects while the store is down. */
  flush(): Promise<void>;
  /** Retention job, once (it also runs every purgeIntervalMs). */
  purgeExpired(): Promise<Array<{ measurement: MeasurementName; before: string }>>;
  /** Erase a resident's home data from SQLite and InfluxDB (queued if InfluxDB is down). */
  purgeResident(residentId: string, options?: PurgeOptions): Promise<PurgeSummary>;
}

/**
 * The time-series store: ships the hub's durable SQLite data (journal, feed_log) to InfluxDB 1.x or
 * 2.x. Construct only when config.influx is set; the hub runs SQLite-only without it.
 */
export function createTimeSeries(deps: TimeSeriesDeps): TimeSeries {
  const influx = deps.config.influx;
  if (!influx && !deps.backend)
    throw new HubError(ErrorCodes.CONFIG_INVALID, 'the time-series store needs an influx section');
  const opts = deps.options ?? {};
  const backend = deps.backend ?? createBackend(influx as NonNullable<typeof influx>, opts);
  const options: ShipperOptions = {
    ...DEFAULT_SHIPPER_OPTIONS,
    batchSize: influx?.batchSize ?? 1000,
    flushIntervalMs: influx?.flushIntervalMs ?? 1000,
    maxBacklogRows: influx?.maxBacklogRows ?? 5_000_000,
    site: deps.config.site.name,
    ...stripUndefined(opts),
    retentionMs: { ...DEFAULT_SHIPPER_OPTIONS.retentionMs, ...stripUndefined(opts.retentionMs ?? {}) },
  };
  const metrics = storeMetrics(deps.metrics.registry);
  const gaugeValue = async (g: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> =>
    (await g.get()).values[0]?.value ?? 0;
  const shipper = new Shipper(
    {
      db: deps.db,
      backend,
      kindOf: (id) => deps.directory.device(id)?.device.kind,
      metrics,
      log: deps.log,
      now: () => deps.clock.now(),
      figures: async () => ({
        connectedDevices: await gaugeValue(deps.metrics.devicesConnected),
        journalLagRows: await gaugeValue(deps.metrics.journalLag),
      }),
    },
    options,
  );
  deps.log.info(
    { backend: backend.kind, target: backend.target, batchSize: options.batchSize },
    'time-series store configured',
  );
  return {
    backend,
    history: new InfluxHistory(backend),
    start: () => shipper.start(),
    stop: () => shipper.stop(),
    health: () => shipper.health(),
    retainFloor: () => shipper.retainFloor(),
    journalShipped: () => shipper.journalShipped(),
    flush: () => shipper.flush(),
    purgeExpired: () => shipper.purgeExpired(),
    async purgeResident(residentId, purgeOptions = {}) {
      const base = eraseFromSqlite(deps.config, deps.db, residentId, {
        ...purgeOptions,
        queueInflux: true,
        now: Date.now(),
      });
      const influxMeasurements = [...HOME_MEASUREMENTS];
      if (base.dryRun) return { ...base, influx: 'dry_run', influxMeasurements };
      const applied = await shipper.applyPurgesNow();
      deps.log.info({ home: base.homeId, influx: applied ? 'deleted' : 'pending' }, 'resident data purged');
      return { ...base, influx: applied ? 'deleted' : 'pending', influxMeasurements };
    },
  };
}

/** History on whichever store is configured: InfluxDB when there is one, else the hub's SQLite. */
export function createHistory(args: { db: Db; backend?: TimeSeriesBackend | undefined }): HistoryQuery {
  return args.backend ? new InfluxHistory(args.backend) : new SqliteHistory(args.db);
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
