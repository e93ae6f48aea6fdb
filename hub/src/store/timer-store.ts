import type { TimerRow } from '../model/timer.js';
import type { Db } from './sqlite-db.js';

/** Timers are state, not memory: kept in SQLite so a restart still fires them, late ones at start. */
export class TimerStore {
  readonly #put;
  readonly #get;
  readonly #del;
  readonly #keys;

  constructor(private readonly db: Db) {
    this.#put = db.prepare(
      'INSERT INTO timers(key, home_id, due_at, data) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET home_id = excluded.home_id, due_at = excluded.due_at, data = excluded.data',
    );
    this.#get = db.prepare<[string], { key: string; home_id: string; due_at: number; data: string }>(
      'SELECT * FROM timers WHERE key = ?',
    );
    this.#del = db.prepare('DELETE FROM timers WHERE key = ?');
    this.#keys = db.prepare<[], { key: string; due_at: number }>(
      'SELECT key, due_at FROM timers ORDER BY due_at, key',
    );
  }

  put(t: TimerRow): void {
    this.#put.run(t.key, t.homeId, t.dueAt, JSON.stringify(t.data));
  }

  get(key: string): TimerRow | undefined {
    const r = this.#get.get(key);
    return r
      ? { key: r.key, homeId: r.home_id, dueAt: r.due_at, data: JSON.parse(r.data) as TimerRow['data'] }
      : undefined;
  }

  delete(key: string): void {
    this.#del.run(key);
  }

  /** The timers of one home, with their data (a home or a device removed: its timers go). */
  ofHome(homeId: string): TimerRow[] {
    return this.db
      .prepare<[string], { key: string; home_id: string; due_at: number; data: string }>(
        'SELECT * FROM timers WHERE home_id = ? ORDER BY key',
      )
      .all(homeId)
      .map((r) => ({
        key: r.key,
        homeId: r.home_id,
        dueAt: r.due_at,
        data: JSON.parse(r.data) as TimerRow['data'],
      }));
  }

  /** Every stored key with its due time, in due order (no data: cheap enough to mirror the table in memory). */
  keys(): Array<[string, number]> {
    return this.#keys.all().map((r) => [r.key, r.due_at]);
  }
}
