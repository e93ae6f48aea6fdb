import type { HubConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import { DirectoryRepo } from './directory-repo.js';
import { type Db, Meta } from './sqlite-db.js';
import { Outbox } from './ts-outbox.js';

/** What erasing a resident's home removed from SQLite (or would, in a dry run). */
export interface SqliteErasure {
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
}

export interface PurgeOptions {
  dryRun?: boolean | undefined;
  /** Purge even though the home has unresolved alerts. */
  force?: boolean | undefined;
}

/**
 * The site's homes with their residents and device ids: the store's directory once seeded (it is
 * changed at run time), else the configuration's (a data dir the hub has not started on yet).
 */
function homesOf(
  config: Readonly<HubConfig>,
  db: Db,
): Array<{ id: string; residents: Array<{ id: string }>; deviceIds: string[] }> {
  const repo = new DirectoryRepo(db, new Meta(db));
  if (repo.seededAt() === undefined)
    return config.homes.map((h) => ({
      id: h.id,
      residents: h.residents,
      deviceIds: h.devices.map((d) => d.id),
    }));
  const data = repo.loadAll();
  return data.homes.map((h) => ({
    id: h.id,
    residents: h.residents,
    deviceIds: data.devices.filter((d) => d.homeId === h.id).map((d) => d.id),
  }));
}

/** The resident's home: from the site directory, else from stored alerts (a resident who left the service). */
export function residentHome(
  config: Readonly<HubConfig>,
  db: Db,
  residentId: string,
): { homeId: string; sharedWith: string[] } {
  for (const home of homesOf(config, db)) {
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
  const ids = new Set(homesOf(config, db).find((h) => h.id === homeId)?.deviceIds ?? []);
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
): SqliteErasure {
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
