import type { HubConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DeviceRecord, HomeRecord } from '../model/directory.js';
import { directoryDataOf } from '../site/directory.js';
import { DirectoryRepo } from '../store/directory-repo.js';
import { type Db, Meta, openDatabase } from '../store/sqlite-db.js';
import { createBackend } from './backend.js';
import { Outbox } from './outbox.js';
import { HOME_MEASUREMENTS, type MeasurementName } from './schema.js';
import type { TimeSeriesBackend } from './types.js';

export interface PurgeSummary {
  residentId: string;
  homeId: string;
  dryRun: boolean;
  /** Other residents of the same home: their home's events and alerts are erased too. */
  sharedWith: string[];
  /** Alerts of the home not yet resolved (a purge refuses them unless forced). */
  unresolvedAlerts: number;
  /** Rows deleted from SQLite (or that would be, in a dry run). */
  sqlite: {
    journal: number;
    alerts: number;
    feedLog: number;
    deviceDeadLetters: number;
    storeDeadLetters: number;
  };
  /** deleted: InfluxDB confirmed; pending: queued in ts_purge_queue, applied once InfluxDB answers. */
  influx: 'deleted' | 'pending' | 'not_configured' | 'dry_run';
  influxMeasurements: MeasurementName[];
  influxError?: string;
}

export interface PurgeOptions {
  dryRun?: boolean | undefined;
  /** Purge even though the home has unresolved alerts. */
  force?: boolean | undefined;
}

/** The site directory: the store's once seeded (it is changed at run time), else the configuration's. */
function homesOf(config: Readonly<HubConfig>, db: Db): { homes: HomeRecord[]; devices: DeviceRecord[] } {
  const repo = new DirectoryRepo(db, new Meta(db));
  return repo.seededAt() === undefined ? directoryDataOf(config) : repo.loadAll();
}

/** The resident's home: from the site directory, else from stored alerts (a resident who left the service). */
export function residentHome(
  config: Readonly<HubConfig>,
  db: Db,
  residentId: string,
): { homeId: string; sharedWith: string[] } {
  for (const home of homesOf(config, db).homes) {
    if (home.residents.some((r) => r.id === residentId)) {
      return {
        homeId: home.id,
        sharedWith: home.residents.filter((r) => r.id !== residentId).map((r) => r.id),
      };
    }
  }
  const row = db
    .prepare<[string], { home_id: string }>(
      `SELECT DISTINCT alerts.home_id AS home_id FROM alerts, json_each(alerts.data, '$.alert.residentIds') AS r
       WHERE r.value = ? LIMIT 1`,
    )
    .get(residentId);
  if (row) return { homeId: row.home_id, sharedWith: [] };
  throw new HubError(
    ErrorCodes.NOT_FOUND,
    `no resident "${residentId}" in the configuration or in stored alerts`,
  );
}

function deviceIdsOf(config: Readonly<HubConfig>, db: Db, homeId: string): string[] {
  const ids = new Set(
    homesOf(config, db)
      .devices.filter((d) => d.homeId === homeId)
      .map((d) => d.id),
  );
  for (const r of db
    .prepare<[string], { device_id: string }>('SELECT DISTINCT device_id FROM journal WHERE home_id = ?')
    .all(homeId)) {
    ids.add(r.device_id);
  }
  return [...ids];
}

/**
 * Erase a home's device events and alerts from SQLite and queue the same for the time-series store,
 * in one transaction (a crash after it still purges InfluxDB at the next start).
 */
export function eraseFromSqlite(
  config: Readonly<HubConfig>,
  db: Db,
  residentId: string,
  options: PurgeOptions & { queueInflux: boolean; now: number },
): Omit<PurgeSummary, 'influx' | 'influxMeasurements'> {
  const { homeId, sharedWith } = residentHome(config, db, residentId);
  const outbox = new Outbox(db);
  const devices = deviceIdsOf(config, db, homeId);
  const inDevices = `(${devices.map(() => '?').join(',') || "''"})`;
  const unresolvedAlerts =
    db
      .prepare<[string], { n: number }>(
        "SELECT count(*) AS n FROM alerts WHERE home_id = ? AND status != 'resolved'",
      )
      .get(homeId)?.n ?? 0;
  const dryRun = options.dryRun === true;
  if (!dryRun && unresolvedAlerts > 0 && !options.force) {
    throw new HubError(
      ErrorCodes.PURGE_REFUSED,
      `home ${homeId} has ${unresolvedAlerts} unresolved alert(s); resolve them or force the purge`,
      {
        details: { homeId, unresolvedAlerts },
      },
    );
  }
  const count = (sql: string, ...args: unknown[]): number =>
    db.prepare<unknown[], { n: number }>(sql).get(...args)?.n ?? 0;
  const run = (sql: string, ...args: unknown[]): number => db.prepare(sql).run(...args).changes;
  const homeMarker = `,${homeId},`;
  const apply = db.transaction(() => {
    const op = dryRun
      ? (table: string, where: string, ...args: unknown[]) =>
          count(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, ...args)
      : (table: string, where: string, ...args: unknown[]) =>
          run(`DELETE FROM ${table} WHERE ${where}`, ...args);
    const sqlite = {
      journal: op('journal', 'home_id = ?', homeId),
      alerts: op('alerts', 'home_id = ?', homeId),
      feedLog: op('feed_log', 'home_id = ?', homeId),
      deviceDeadLetters: op('dead_letter', `client_id IN ${inDevices}`, ...devices),
      storeDeadLetters: op('ts_dead_letter', 'instr(homes, ?) > 0', homeMarker),
    };
    if (!dryRun && options.queueInflux) outbox.enqueuePurge(homeId, options.now);
    return sqlite;
  });
  return { residentId, homeId, dryRun, sharedWith, unresolvedAlerts, sqlite: apply() };
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
