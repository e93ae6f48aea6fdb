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
    this.#delJournal = db.prepare(
      'DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE seq <= ? AND received_at < ? ORDER BY seq LIMIT ?)',
    );
    this.#delDead = db.prepare(
      'DELETE FROM dead_letter WHERE id IN (SELECT id FROM dead_letter WHERE received_at < ? ORDER BY id LIMIT ?)',
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
      now - retention.journalDays * 86_400_000,
      chunk,
    ).changes;
    const deadLetters = this.#delDead.run(now - retention.deadLetterDays * 86_400_000, chunk).changes;
    return { journal, deadLetters, more: journal >= chunk || deadLetters >= chunk };
  }
}
