import type { FeedEntry } from '../model/feed-entry.js';
import type { Db } from './sqlite-db.js';

const TRIMMED_KEY = 'feed_trimmed_to';

/**
 * Persisted, numbered feed events. AUTOINCREMENT never reuses a number, so `seq` never goes
 * backwards, across restarts and trims alike; `resume` replays from here. The numbers come from
 * applying the log in order, so every node and every replay numbers alike; entries reach the feed
 * only once their commit is on disk, so no number a console saw can be issued again after a crash.
 */
export class FeedLog {
  readonly #append;
  readonly #after;
  readonly #bounds;
  readonly #trimPoint;
  readonly #trim;
  readonly #setTrimmed;
  readonly #eraseHome;
  readonly #persistedMax: () => number;
  /** Every entry up to here was trimmed (numbers after it may still be gaps). */
  #trimmedTo: number;

  constructor(db: Db) {
    this.#append = db.prepare(
      'INSERT INTO feed_log(at, type, home_id, data) VALUES (?, ?, ?, ?) RETURNING seq',
    );
    this.#after = db.prepare<
      [number, number],
      { seq: number; at: number; type: string; home_id: string; data: string }
    >('SELECT seq, at, type, home_id, data FROM feed_log WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#bounds = db.prepare<[], { min: number | null; max: number | null }>(
      'SELECT min(seq) AS min, max(seq) AS max FROM feed_log',
    );
    // By count, not by number (hubs before 2026-12 skipped numbers at every start).
    this.#trimPoint = db.prepare<[number], { seq: number }>(
      'SELECT seq FROM feed_log ORDER BY seq DESC LIMIT 1 OFFSET ?',
    );
    this.#trim = db.prepare('DELETE FROM feed_log WHERE seq <= ?');
    this.#eraseHome = db.prepare('DELETE FROM feed_log WHERE home_id = ?');
    this.#setTrimmed = db.prepare(
      `INSERT INTO meta(key, value) VALUES ('${TRIMMED_KEY}', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    );
    const stored = db
      .prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = '${TRIMMED_KEY}'`)
      .get()?.value;
    // Before the mark was kept, the oldest entry left told the same; from then on the mark does.
    this.#trimmedTo = stored === undefined ? (this.oldestSeq() ?? 1) - 1 : Number(stored);
    if (stored === undefined) this.#setTrimmed.run(String(this.#trimmedTo));
    const seqRow = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'feed_log'");
    this.#persistedMax = () => seqRow.get()?.seq ?? 0;
  }

  /** Can the entries after `afterSeq` be replayed exactly (else: send a snapshot)? */
  canReplayAfter(afterSeq: number): boolean {
    return afterSeq <= this.currentSeq() && afterSeq >= this.#trimmedTo;
  }

  append(at: number, type: FeedEntry['type'], homeId: string, body: Record<string, unknown>): FeedEntry {
    const row = this.#append.get(at, type, homeId, JSON.stringify(body)) as { seq: number };
    return { seq: row.seq, at, type, homeId, body };
  }

  after(seq: number, limit: number): FeedEntry[] {
    return this.#after.all(seq, limit).map((r) => ({
      seq: r.seq,
      at: r.at,
      type: r.type as FeedEntry['type'],
      homeId: r.home_id,
      body: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  /** The newest seq ever issued (0 before the first), even when trimmed away. */
  currentSeq(): number {
    return this.#persistedMax();
  }

  /** The oldest seq still kept, or undefined when the log is empty. */
  oldestSeq(): number | undefined {
    return this.#bounds.get()?.min ?? undefined;
  }

  /** Erase the feed entries of a home (docs/security.md, "Erasure"); numbers are never issued again. */
  eraseHome(homeId: string): number {
    return this.#eraseHome.run(homeId).changes;
  }

  /** Keep the newest `retain` entries. */
  trim(retain: number): number {
    const point = this.#trimPoint.get(Math.max(0, Math.trunc(retain)))?.seq;
    if (point === undefined) return 0;
    const removed = this.#trim.run(point).changes;
    this.#trimmedTo = Math.max(this.#trimmedTo, point);
    this.#setTrimmed.run(String(this.#trimmedTo));
    return removed;
  }
}
