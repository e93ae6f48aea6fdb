import type { Db } from './sqlite-db.js';

export interface LocalRetention {
  /** Device events older than this are deleted from the journal once processed (and shipped). */
  journalDays: number;
  /** Rejected messages are kept this long for inspection. */
  deadLetterDays: number;
}

export interface Trimmed {
  journal: number;
  deadLetters: number;
}

/**
 * Trims the SQLite journal and dead-letter table. A journal row goes only when it is older than the
 * retention, already applied by the rules (`keepAfterSeq`), and, with InfluxDB, already shipped.
 * Alerts and the audit trail are kept. One `step` deletes at most `chunk` rows of each table in one
 * transaction; the caller runs steps in separate turns of the event loop, so a site's hourly trim
 * (an hour of device events: a million rows at a few hundred messages a second) neither stops the
 * hub nor keeps the WAL from restarting (store/checkpointer.ts).
 */
export class LocalTrimmer {
  readonly #delJournal;
  readonly #delDead;

  constructor(db: Db) {
    // The oldest `chunk` rows by key, of which those past the retention: a step reads at most
    // `chunk` rows. (Filtering on received_at inside the subquery read the whole table whenever no
    // row was old enough: every hour and at every start, seconds for a few million rows.) Rows come
    // in time order, so a chunk that is not all past the retention ends the trim; old rows behind a
    // recent one (the clock set back) go at the next trim.
    this.#delJournal = db.prepare(
      'DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE seq <= ? ORDER BY seq LIMIT ?) AND received_at < ?',
    );
    this.#delDead = db.prepare(
      'DELETE FROM dead_letter WHERE id IN (SELECT id FROM dead_letter ORDER BY id LIMIT ?) AND received_at < ?',
    );
  }

  /** One chunk; `more` when a table may hold more rows past their retention. */
  step(
    now: number,
    retention: LocalRetention,
    keepAfterSeq: number,
    chunk: number,
  ): Trimmed & { more: boolean } {
    const journal = this.#delJournal.run(
      keepAfterSeq,
      chunk,
      now - retention.journalDays * 86_400_000,
    ).changes;
    const deadLetters = this.#delDead.run(chunk, now - retention.deadLetterDays * 86_400_000).changes;
    return { journal, deadLetters, more: journal >= chunk || deadLetters >= chunk };
  }
}
