import type { FeedRowLike, JournalRowLike, StreamName } from '../model/outbox-rows.js';
import type { Db } from './sqlite-db.js';

/** Alerts first, so a fire never queues behind telemetry; then device changes; then device events. */
export const SHIP_ORDER: readonly StreamName[] = ['feed_alert', 'feed_device', 'journal'];
/** Past maxBacklogRows the oldest rows are skipped in this order: telemetry long before any alert. */
export const DROP_ORDER: readonly StreamName[] = ['journal', 'feed_device', 'feed_alert'];

const DEAD_LETTER_KEEP = 10_000;
const DEAD_LETTER_MAX_TEXT = 64 * 1024;

export type OutboxRow =
  | ({ stream: 'journal' } & JournalRowLike)
  | ({ stream: 'feed_alert' | 'feed_device' } & FeedRowLike);

export interface StreamRead {
  stream: StreamName;
  rows: OutboxRow[];
  /** Where the cursor goes once these rows are shipped (past rows of other types scanned on the way). */
  next: number;
}

export interface DeadLetterEntry {
  at: number;
  streams: string;
  homes: readonly string[];
  status: number | null;
  message: string;
  points: number;
  lines: string;
}

/**
 * The outbox is the SQLite data the hub already writes (journal, feed_log): this class adds only
 * the shipper's own bookkeeping tables, a cursor per stream, dead letters and pending purges.
 */
export class Outbox {
  readonly #getCursor;
  readonly #setCursor;
  readonly #journalMax;
  readonly #feedMax;
  readonly #readJournal;
  readonly #readFeed;
  readonly #countJournal;
  readonly #countFeed;
  readonly #nthJournal;
  readonly #nthFeed;
  readonly #insertDead;
  readonly #capDead;
  readonly #countDead;
  readonly #insertPurge;
  readonly #listPurges;
  readonly #deletePurge;
  readonly #advance;

  constructor(private readonly db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ts_cursor (stream TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS ts_dead_letter (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        streams TEXT NOT NULL,
        homes TEXT NOT NULL,
        status INTEGER,
        message TEXT NOT NULL,
        points INTEGER NOT NULL,
        lines TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ts_purge_queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        home_id TEXT NOT NULL,
        requested_at INTEGER NOT NULL
      );
    `);
    this.#getCursor = db.prepare<[string], { seq: number }>('SELECT seq FROM ts_cursor WHERE stream = ?');
    this.#setCursor = db.prepare(
      'INSERT INTO ts_cursor(stream, seq) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET seq = max(seq, excluded.seq)',
    );
    this.#journalMax = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal');
    this.#feedMax = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM feed_log');
    this.#readJournal = db.prepare<[number, number, number], JournalRowLike>(
      'SELECT seq, device_id, home_id, received_at, type, payload FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    );
    this.#readFeed = db.prepare<[number, number, string, number], FeedRowLike>(
      'SELECT seq, at, home_id, data FROM feed_log WHERE seq > ? AND seq <= ? AND type = ? ORDER BY seq LIMIT ?',
    );
    this.#countJournal = db.prepare<[number], { n: number }>(
      'SELECT count(*) AS n FROM journal WHERE seq > ?',
    );
    this.#countFeed = db.prepare<[number, string], { n: number }>(
      'SELECT count(*) AS n FROM feed_log WHERE seq > ? AND type = ?',
    );
    this.#nthJournal = db.prepare<[number, number], { seq: number }>(
      'SELECT seq FROM journal WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?',
    );
    this.#nthFeed = db.prepare<[number, string, number], { seq: number }>(
      'SELECT seq FROM feed_log WHERE seq > ? AND type = ? ORDER BY seq LIMIT 1 OFFSET ?',
    );
    this.#insertDead = db.prepare(
      'INSERT INTO ts_dead_letter(at, streams, homes, status, message, points, lines) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#capDead = db.prepare(
      `DELETE FROM ts_dead_letter WHERE id <= (SELECT max(id) - ${DEAD_LETTER_KEEP} FROM ts_dead_letter)`,
    );
    this.#countDead = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM ts_dead_letter');
    this.#insertPurge = db.prepare('INSERT INTO ts_purge_queue(home_id, requested_at) VALUES (?, ?)');
    this.#listPurges = db.prepare<[], { id: number; home_id: string }>(
      'SELECT id, home_id FROM ts_purge_queue ORDER BY id',
    );
    this.#deletePurge = db.prepare('DELETE FROM ts_purge_queue WHERE id = ?');
    this.#advance = db.transaction((cursors: ReadonlyArray<readonly [StreamName, number]>) => {
      for (const [stream, seq] of cursors) this.#setCursor.run(stream, seq);
    });
  }

  cursor(stream: StreamName): number {
    return this.#getCursor.get(stream)?.seq ?? 0;
  }

  /** The newest seq of the table behind a stream (0 when empty). */
  maxSeq(stream: StreamName): number {
    return (stream === 'journal' ? this.#journalMax.get()?.seq : this.#feedMax.get()?.seq) ?? 0;
  }

  read(stream: StreamName, limit: number): StreamRead {
    const from = this.cursor(stream);
    const hi = this.maxSeq(stream);
    if (limit <= 0 || hi <= from) return { stream, rows: [], next: from };
    const rows: OutboxRow[] =
      stream === 'journal'
        ? this.#readJournal.all(from, hi, limit).map((r) => ({ ...r, stream }))
        : this.#readFeed
            .all(from, hi, stream === 'feed_alert' ? 'alert' : 'device', limit)
            .map((r) => ({ ...r, stream }));
    const last = rows.at(-1);
    return { stream, rows, next: rows.length < limit ? hi : (last?.seq ?? from) };
  }

  /** Move cursors forward (never back) in one transaction: only after InfluxDB answered 2xx or the rows were dead-lettered. */
  advance(cursors: ReadonlyArray<readonly [StreamName, number]>): void {
    if (cursors.length > 0) this.#advance(cursors);
  }

  /** Rows beyond the cursor, exactly. */
  backlog(stream: StreamName): number {
    const from = this.cursor(stream);
    if (stream === 'journal') return this.#countJournal.get(from)?.n ?? 0;
    return this.#countFeed.get(from, stream === 'feed_alert' ? 'alert' : 'device')?.n ?? 0;
  }

  /** A cheap upper bound of the total backlog (no counting): seq distances. */
  backlogUpperBound(): number {
    const j = Math.max(0, this.maxSeq('journal') - this.cursor('journal'));
    const f = this.maxSeq('feed_alert');
    const feed = Math.max(0, f - this.cursor('feed_alert')) + Math.max(0, f - this.cursor('feed_device'));
    return j + feed;
  }

  /** Skip the oldest `n` rows of a stream (cursor jumps past them). Returns how many were skipped. */
  skip(stream: StreamName, n: number): number {
    if (n <= 0) return 0;
    const from = this.cursor(stream);
    const row =
      stream === 'journal'
        ? this.#nthJournal.get(from, n - 1)
        : this.#nthFeed.get(from, stream === 'feed_alert' ? 'alert' : 'device', n - 1);
    if (row) {
      this.#setCursor.run(stream, row.seq);
      return n;
    }
    const all = this.backlog(stream);
    this.#setCursor.run(stream, this.maxSeq(stream));
    return all;
  }

  /** The lowest feed_log seq not yet shipped by every feed stream: trimming must keep it and everything after. */
  retainFloor(): number {
    return Math.min(this.cursor('feed_alert'), this.cursor('feed_device')) + 1;
  }

  deadLetter(e: DeadLetterEntry): void {
    this.#insertDead.run(
      e.at,
      e.streams,
      `,${e.homes.join(',')},`,
      e.status,
      e.message.slice(0, DEAD_LETTER_MAX_TEXT),
      e.points,
      e.lines.slice(0, DEAD_LETTER_MAX_TEXT),
    );
    this.#capDead.run();
  }

  deadLetterCount(): number {
    return this.#countDead.get()?.n ?? 0;
  }

  enqueuePurge(homeId: string, at: number): void {
    this.#insertPurge.run(homeId, at);
  }

  pendingPurges(): Array<{ id: number; homeId: string }> {
    return this.#listPurges.all().map((r) => ({ id: r.id, homeId: r.home_id }));
  }

  purgeDone(id: number): void {
    this.#deletePurge.run(id);
  }

  get open(): boolean {
    return this.db.open;
  }
}
