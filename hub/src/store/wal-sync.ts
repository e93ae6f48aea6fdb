import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import type { Db } from './sqlite-db.js';

/**
 * fdatasync of the SQLite write-ahead log on libuv's thread pool, so the event loop does not stop
 * for the disk on every journal commit. The journal commits with `synchronous=NORMAL` (the frames
 * reach the WAL file, not yet the disk), then waits here before anything depends on the commit:
 * the PUBACK and the feed. That is the same promise as `synchronous=FULL`, with the wait moved off
 * the loop. Requests that arrive while a sync runs share the next one (their frames may have been
 * written after the running one started).
 *
 * A WAL frame is never overwritten before it is in the database file: with NORMAL, SQLite syncs the
 * WAL before every checkpoint and the database after it, and restarts the WAL only after that.
 */
export class WalSync {
  #fd: number | undefined;
  #running = false;
  #closing = false;
  #waiting: Array<(err: Error | null) => void> = [];
  stats = { syncs: 0 };

  private constructor(private readonly walPath: string) {}

  /** For a file database in WAL mode; undefined otherwise (the commit itself then syncs). */
  static of(db: Db): WalSync | undefined {
    if (db.memory) return undefined;
    const mode = db.pragma('journal_mode', { simple: true }) as string;
    return mode === 'wal' ? new WalSync(`${db.name}-wal`) : undefined;
  }

  /** Call `done` once everything written to the WAL so far is on disk (or the sync failed). */
  after(done: (err: Error | null) => void): void {
    this.#waiting.push(done);
    if (!this.#running) this.#next();
  }

  /** Sync now, blocking (at shutdown). */
  syncNow(): void {
    try {
      this.#fd ??= openSync(this.walPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no WAL: nothing was written
      throw err;
    }
    fdatasyncSync(this.#fd);
  }

  /** Close the file once no sync is running. */
  close(): void {
    this.#closing = true;
    if (!this.#running) this.#closeFd();
  }

  #next(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    let fd: number;
    try {
      this.#fd ??= openSync(this.walPath, 'r');
      fd = this.#fd;
    } catch (err) {
      for (const done of batch) done(err as Error);
      return;
    }
    this.#running = true;
    fdatasync(fd, (err) => {
      this.#running = false;
      this.stats.syncs++;
      for (const done of batch) done(err);
      if (this.#waiting.length > 0) this.#next();
      else if (this.#closing) this.#closeFd();
    });
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
