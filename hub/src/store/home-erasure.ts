import type { Db } from './sqlite-db.js';

/** Meta key: the position of the last entry that erased rows of the log (a replay cannot rebuild the state from before it). */
export const LOG_ERASED_KEY = 'log_erased_at';

/** Journal rows looked at per step: one step is a few milliseconds, so SOS traffic never waits long. */
export const ERASE_SCAN_ROWS = 20_000;

interface QueuedErasure {
  id: number;
  home_id: string;
  devices: string;
  before_seq: number;
  cursor: number;
  requested_at: number;
}

/**
 * The log's part of erasing a home (docs/security.md, "Erasure"): its device events and the
 * directory entries that named its residents and contacts are deleted from the journal, with its
 * devices' rejected messages, then the time-series store is told to delete the home's series. A
 * whole journal scan would stall the hub on a big site, so the applier only queues the erasure
 * (in its unit of work, so a crash resumes it) and a job does it in steps (jobs/erasure-job.ts).
 */
export class HomeErasure {
  readonly #queue;
  readonly #next;
  readonly #advance;
  readonly #done;
  readonly #eraseRange;
  readonly #pending;
  readonly #mark;

  constructor(private readonly db: Db) {
    this.#queue = db.prepare(
      'INSERT INTO erase_queue(home_id, devices, before_seq, cursor, requested_at) VALUES (?, ?, ?, 0, ?)',
    );
    this.#next = db.prepare<[], QueuedErasure>('SELECT * FROM erase_queue ORDER BY id LIMIT 1');
    this.#advance = db.prepare('UPDATE erase_queue SET cursor = ? WHERE id = ?');
    this.#done = db.prepare('DELETE FROM erase_queue WHERE id = ?');
    this.#eraseRange = db.prepare('DELETE FROM journal WHERE seq > ? AND seq <= ? AND home_id = ?');
    this.#pending = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM erase_queue');
    this.#mark = db.prepare(
      `INSERT INTO meta(key, value) VALUES ('${LOG_ERASED_KEY}', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    );
  }

  /** Queue the erasure of the home's log rows before `beforeSeq` (the erasing entry's own position). */
  queue(homeId: string, deviceIds: readonly string[], beforeSeq: number, at: number): void {
    this.#queue.run(homeId, JSON.stringify(deviceIds), beforeSeq, at);
    this.#mark.run(String(beforeSeq));
  }

  pending(): number {
    return this.#pending.get()?.n ?? 0;
  }

  /**
   * One step of the oldest queued erasure: the journal rows in the next `scan` positions. When it
   * reaches its end, the devices' dead letters go and the time-series purge is queued. Returns
   * whether anything is left to do.
   */
  step(scan = ERASE_SCAN_ROWS): boolean {
    const job = this.#next.get();
    if (!job) return false;
    const to = Math.min(job.cursor + scan, job.before_seq - 1);
    this.db.transaction(() => {
      this.#eraseRange.run(job.cursor, to, job.home_id);
      if (to < job.before_seq - 1) {
        this.#advance.run(to, job.id);
        return;
      }
      this.#finish(job);
    })();
    return true;
  }

  /** Everything queued, now (the CLI, tests). */
  drain(): void {
    while (this.step(1_000_000)) {
      // one step per call
    }
  }

  #finish(job: QueuedErasure): void {
    const devices = JSON.parse(job.devices) as string[];
    if (devices.length > 0)
      this.db
        .prepare(`DELETE FROM dead_letter WHERE client_id IN (${devices.map(() => '?').join(',')})`)
        .run(...devices);
    // The time-series tables exist where InfluxDB is (or was) in use (timeseries/outbox.ts).
    if (this.#hasTable('ts_dead_letter'))
      this.db.prepare('DELETE FROM ts_dead_letter WHERE instr(homes, ?) > 0').run(`,${job.home_id},`);
    if (this.#hasTable('ts_purge_queue'))
      this.db
        .prepare('INSERT INTO ts_purge_queue(home_id, requested_at) VALUES (?, ?)')
        .run(job.home_id, job.requested_at);
    this.#done.run(job.id);
  }

  #hasTable(name: string): boolean {
    return (
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
    );
  }
}
