import type { Db } from './sqlite-db.js';

export interface LocalRetention {
  /** Device events older than this are deleted from the journal once processed (and shipped). */
  journalDays: number;
  /** Rejected messages are kept this long for inspection. */
  deadLetterDays: number;
}

const CHUNK = 10_000;

/**
 * Trims the SQLite journal and dead-letter table. A journal row goes only when it is older than the
 * retention, already applied by the rules (`keepAfterSeq`), and, with InfluxDB, already shipped.
 * Deletes in chunks so the hub never stalls on one long write. Alerts and the audit trail are kept.
 */
export function trimLocal(
  db: Db,
  now: number,
  retention: LocalRetention,
  keepAfterSeq: number,
): { journal: number; deadLetters: number } {
  const journalCut = now - retention.journalDays * 86_400_000;
  const deadCut = now - retention.deadLetterDays * 86_400_000;
  const delJournal = db.prepare(
    'DELETE FROM journal WHERE seq IN (SELECT seq FROM journal WHERE seq <= ? AND received_at < ? ORDER BY seq LIMIT ?)',
  );
  const delDead = db.prepare(
    'DELETE FROM dead_letter WHERE id IN (SELECT id FROM dead_letter WHERE received_at < ? ORDER BY id LIMIT ?)',
  );
  let journal = 0;
  let deadLetters = 0;
  for (let i = 0; i < 1000; i++) {
    const n = delJournal.run(keepAfterSeq, journalCut, CHUNK).changes;
    journal += n;
    if (n < CHUNK) break;
  }
  for (let i = 0; i < 1000; i++) {
    const n = delDead.run(deadCut, CHUNK).changes;
    deadLetters += n;
    if (n < CHUNK) break;
  }
  return { journal, deadLetters };
}
