import type { Db } from '../store/sqlite-db.js';

export interface FeedEntry {
  seq: number;
  at: number;
  type: 'alert' | 'device' | 'home';
  homeId: string;
  /** The message body without `seq` (e.g. {"type":"alert","alert":{…}}). */
  body: Record<string, unknown>;
}

/**
 * Persisted, numbered feed events. AUTOINCREMENT never reuses a number, so `seq` never goes
 * backwards, across restarts and trims alike; `resume` replays from here.
 */
export class FeedLog {
  readonly #append;
  readonly #after;
  readonly #bounds;
  readonly #trim;

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
    this.#trim = db.prepare('DELETE FROM feed_log WHERE seq <= ?');
    const seqRow = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'feed_log'");
    this.#persistedMax = () => seqRow.get()?.seq ?? 0;
  }

  readonly #persistedMax: () => number;

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

  /** Keep the newest `retain` entries. */
  trim(retain: number): number {
    const max = this.currentSeq();
    if (max <= retain) return 0;
    return this.#trim.run(max - retain).changes;
  }
}
