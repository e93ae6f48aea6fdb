import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { eraseFromSqlite, type PurgeOptions, type SqliteErasure } from '../store/erase-home.js';
import { type Db, openDatabase } from '../store/sqlite-db.js';
import { createBackend } from './backend.js';
import { HOME_MEASUREMENTS, type MeasurementName } from './schema.js';
import type { TimeSeriesBackend } from './types.js';

/** What a purge erased (or would, in a dry run), SQLite and InfluxDB. */
export interface PurgeSummary extends SqliteErasure {
  /** deleted: InfluxDB confirmed; pending: queued in ts_purge_queue, applied once InfluxDB answers. */
  influx: 'deleted' | 'pending' | 'not_configured' | 'dry_run';
  influxMeasurements: MeasurementName[];
  influxError?: string;
}

export interface PurgeResidentArgs extends PurgeOptions {
  config: Readonly<HubConfig>;
  residentId: string;
  /** An open hub database; opened from config.dataDir (and closed again) when not given. */
  db?: Db | undefined;
  log?: Logger | undefined;
  /** For tests; otherwise built from config.influx. */
  backend?: TimeSeriesBackend | undefined;
}

/**
 * `carehub purge-resident ID`: erase a resident's home data (device events, alerts) from SQLite and
 * from InfluxDB, and return what was erased. Run with dryRun first to show the summary and ask.
 * The InfluxDB delete stays queued in ts_purge_queue; a running (or the next) hub with InfluxDB
 * configured applies it once more, which also covers a batch that was in flight during the purge.
 */
export async function purgeResident(args: PurgeResidentArgs): Promise<PurgeSummary> {
  const db = args.db ?? openDatabase(args.config.dataDir);
  const influx = args.config.influx !== undefined || args.backend !== undefined;
  try {
    const base = eraseFromSqlite(args.config, db, args.residentId, {
      dryRun: args.dryRun,
      force: args.force,
      queueInflux: influx,
      now: Date.now(),
    });
    const influxMeasurements = [...HOME_MEASUREMENTS];
    if (!influx) return { ...base, influx: 'not_configured', influxMeasurements: [] };
    if (base.dryRun) return { ...base, influx: 'dry_run', influxMeasurements };
    const backend = args.backend ?? (args.config.influx ? createBackend(args.config.influx) : undefined);
    if (!backend) return { ...base, influx: 'not_configured', influxMeasurements: [] };
    try {
      for (const m of HOME_MEASUREMENTS) await backend.deleteWhere(m, { home: base.homeId });
      args.log?.info({ home: base.homeId }, 'resident data purged from SQLite and the time-series store');
      return { ...base, influx: 'deleted', influxMeasurements };
    } catch (err) {
      args.log?.warn(
        { home: base.homeId, reason: (err as Error).message },
        'time-series purge queued: store unavailable',
      );
      return { ...base, influx: 'pending', influxMeasurements, influxError: (err as Error).message };
    } finally {
      if (!args.backend) await backend.close();
    }
  } finally {
    if (!args.db) db.close();
  }
}
