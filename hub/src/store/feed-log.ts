import type { FeedEntry } from '../model/feed-entry.js';
import type { Db } from './sqlite-db.js';

/** Seqs skipped at every start: more than a commit's worth of feed entries. */
const EPOCH_GAP = 1000;
const TRIMMED_KEY = 'feed_trimmed_to';

/**
 * Persisted, numbered feed events. AUTOINCREMENT never reuses a number, so `seq` never goes
 * backwards, across restarts and trims alike; `resume` replays from here.
 */
export class FeedLog {
  readonly #append;
  readonly #after;
  readonly #bounds;
  readonly #trimPoint;
  readonly #trim;
  readonly #setTrimmed;
  readonly #persistedMax: () => number;
  readonly #setSeq: (seq: number) => void;
  /** Every entry up to here was trimmed (numbers after it may still be gaps). */
  #trimmedTo: number;
  /** Seqs skipped at start (openEpoch): (from, to); `to` is what a client is told at hello. */
  #gap: { from: number; to: number } | undefined;

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
    // By count, not by number: numbers have gaps (openEpoch).
    this.#trimPoint = db.prepare<[number], { seq: number }>(
      'SELECT seq FROM feed_log ORDER BY seq DESC LIMIT 1 OFFSET ?',
    );
    this.#trim = db.prepare('DELETE FROM feed_log WHERE seq <= ?');
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
    const bump = db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'feed_log'");
    const first = db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES ('feed_log', ?)");
    this.#setSeq = (seq: number) => {
      if (bump.run(seq).changes === 0) first.run(seq);
    };
  }

  /**
   * Call once at start. Entries reach the feed right after their commit, before its fsync (the
   * device's PUBACK waits for it). After a power cut in between, the last entries a client saw may
   * be gone, and their numbers would be issued again for other entries, which a client resuming
   * from the old number would then skip. So every start skips `gap` numbers, and a client resuming
   * from inside the skipped range gets a fresh snapshot instead of a replay.
   */
  openEpoch(gap = EPOCH_GAP): void {
    const from = this.currentSeq();
    this.#setSeq(from + gap);
    this.#gap = { from, to: from + gap };
  }

  /** Can the entries after `afterSeq` be replayed exactly (else: send a snapshot)? */
  canReplayAfter(afterSeq: number): boolean {
    const gap = this.#gap;
    if (gap && afterSeq > gap.from && afterSeq < gap.to) return false;
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
