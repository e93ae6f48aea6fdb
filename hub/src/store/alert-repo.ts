import type { AlertRecord, AlertStatus } from '../model/alert.js';
import type { Db } from './sqlite-db.js';

interface Row {
  data: string;
  merge_key: string;
  raised_at: number;
  updated_at: number;
}

export interface AlertQuery {
  status?: AlertStatus | 'unresolved' | undefined;
  homeIds?: readonly string[] | undefined;
  kind?: string | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
  limit: number;
  /** Opaque cursor from the previous page: raised_at and id of its last row. */
  after?: { raisedAt: number; id: string } | undefined;
}

/**
 * Alerts in SQLite: the wire object as JSON plus the columns queries need.
 *
 * `findOpen` runs for most device messages, and almost always finds nothing. So the repo keeps the
 * merge keys that may have an unresolved alert: a key is added whenever an alert with it is written
 * unresolved, and keys are dropped only by reloading the set from the table outside any
 * transaction (`pruneOpenKeys`), when no write can still be rolled back. A rollback can therefore
 * leave an extra key (one more query) but never hide an open alert.
 */
export class AlertRepo {
  /** Merge keys that may have an unresolved alert; undefined: unknown, ask SQL every time. */
  #openKeys: Set<string> | undefined;
  /** An alert was resolved since the keys were loaded: pruning would shrink the set. */
  #resolvedSinceLoad = false;
  readonly #openKeysQuery;
  readonly #insert;
  readonly #update;
  readonly #byId;
  readonly #openByKey;
  readonly #unresolved;
  readonly #latestInHome;

  constructor(private readonly db: Db) {
    this.#insert = db.prepare(
      `INSERT INTO alerts(id, home_id, kind, status, merge_key, raised_at, updated_at, version, data)
       VALUES (@id, @homeId, @kind, @status, @mergeKey, @raisedAt, @updatedAt, @version, @data)`,
    );
    this.#update = db.prepare(
      `UPDATE alerts SET status = @status, updated_at = @updatedAt, version = @version, data = @data
       WHERE id = @id AND version = @previousVersion`,
    );
    this.#byId = db.prepare<[string], Row>(
      'SELECT data, merge_key, raised_at, updated_at FROM alerts WHERE id = ?',
    );
    this.#openByKey = db.prepare<[string], Row>(
      "SELECT data, merge_key, raised_at, updated_at FROM alerts WHERE merge_key = ? AND status != 'resolved' ORDER BY raised_at DESC LIMIT 1",
    );
    this.#latestInHome = db.prepare<[string, number], Row>(
      'SELECT data, merge_key, raised_at, updated_at FROM alerts WHERE home_id = ? AND raised_at >= ? ORDER BY raised_at DESC LIMIT 1',
    );
    this.#unresolved = db.prepare<[], Row>(
      "SELECT data, merge_key, raised_at, updated_at FROM alerts WHERE status != 'resolved' ORDER BY raised_at",
    );
    this.#openKeysQuery = db.prepare<[], { merge_key: string }>(
      "SELECT DISTINCT merge_key FROM alerts WHERE status != 'resolved'",
    );
    this.#loadOpenKeys();
  }

  /** Drop keys of alerts resolved since the last load. Only outside a transaction; otherwise a no-op. */
  pruneOpenKeys(): void {
    if (this.#resolvedSinceLoad || !this.#openKeys) this.#loadOpenKeys();
  }

  #loadOpenKeys(): void {
    if (this.db.inTransaction) return;
    this.#openKeys = new Set(this.#openKeysQuery.all().map((r) => r.merge_key));
    this.#resolvedSinceLoad = false;
  }

  #written(rec: AlertRecord): void {
    if (rec.alert.status === 'resolved') this.#resolvedSinceLoad = true;
    else this.#openKeys?.add(rec.mergeKey);
  }

  insert(rec: AlertRecord): void {
    this.#written(rec);
    this.#insert.run({
      id: rec.alert.id,
      homeId: rec.alert.homeId,
      kind: rec.alert.kind,
      status: rec.alert.status,
      mergeKey: rec.mergeKey,
      raisedAt: rec.raisedAtMs,
      updatedAt: rec.updatedAtMs,
      version: rec.alert.version,
      data: JSON.stringify(rec),
    });
  }

  /** Optimistic update: false when someone else changed the alert since `previousVersion`. */
  update(rec: AlertRecord, previousVersion: number): boolean {
    this.#written(rec);
    const info = this.#update.run({
      id: rec.alert.id,
      status: rec.alert.status,
      updatedAt: rec.updatedAtMs,
      version: rec.alert.version,
      previousVersion,
      data: JSON.stringify(rec),
    });
    return info.changes === 1;
  }

  get(id: string): AlertRecord | undefined {
    const row = this.#byId.get(id);
    return row ? (JSON.parse(row.data) as AlertRecord) : undefined;
  }

  findOpen(mergeKey: string): AlertRecord | undefined {
    if (this.#openKeys && !this.#openKeys.has(mergeKey)) return undefined;
    const row = this.#openByKey.get(mergeKey);
    return row ? (JSON.parse(row.data) as AlertRecord) : undefined;
  }

  /** The most recent alert of a home raised at or after `sinceMs` (incident grouping). */
  latestInHome(homeId: string, sinceMs: number): AlertRecord | undefined {
    const row = this.#latestInHome.get(homeId, sinceMs);
    return row ? (JSON.parse(row.data) as AlertRecord) : undefined;
  }

  /** Alerts of the home not yet resolved (an erasure refuses them unless forced). */
  unresolvedIn(homeId: string): number {
    return (
      this.db
        .prepare<[string], { n: number }>(
          "SELECT count(*) AS n FROM alerts WHERE home_id = ? AND status != 'resolved'",
        )
        .get(homeId)?.n ?? 0
    );
  }

  /** Erase every alert of a home (docs/security.md, "Erasure"); returns how many. */
  eraseHome(homeId: string): AlertRecord[] {
    const rows = this.db
      .prepare<[string], Row>(
        'DELETE FROM alerts WHERE home_id = ? RETURNING data, merge_key, raised_at, updated_at',
      )
      .all(homeId);
    // Keys of deleted open alerts may stay in the filter: findOpen asks SQL for them, and the next prune drops them.
    this.#resolvedSinceLoad = true;
    return rows.map((r) => JSON.parse(r.data) as AlertRecord);
  }

  unresolved(): AlertRecord[] {
    return this.#unresolved.all().map((r) => JSON.parse(r.data) as AlertRecord);
  }

  query(q: AlertQuery): AlertRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status === 'unresolved') where.push("status != 'resolved'");
    else if (q.status) {
      where.push('status = ?');
      params.push(q.status);
    }
    if (q.homeIds) {
      if (q.homeIds.length === 0) return [];
      where.push(`home_id IN (${q.homeIds.map(() => '?').join(',')})`);
      params.push(...q.homeIds);
    }
    if (q.kind) {
      where.push('kind = ?');
      params.push(q.kind);
    }
    if (q.fromMs !== undefined) {
      where.push('raised_at >= ?');
      params.push(q.fromMs);
    }
    if (q.toMs !== undefined) {
      where.push('raised_at < ?');
      params.push(q.toMs);
    }
    if (q.after) {
      where.push('(raised_at < ? OR (raised_at = ? AND id < ?))');
      params.push(q.after.raisedAt, q.after.raisedAt, q.after.id);
    }
    const sql = `SELECT data, merge_key, raised_at, updated_at FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY raised_at DESC, id DESC LIMIT ?`;
    params.push(q.limit);
    return (this.db.prepare(sql).all(...params) as Row[]).map((r) => JSON.parse(r.data) as AlertRecord);
  }
}
