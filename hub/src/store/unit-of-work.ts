import type { Db } from './sqlite-db.js';

/** An in-memory copy of stored state that is written through inside transactions. */
export interface TransactionalCache {
  /** A transaction that wrote through this cache rolled back: drop (or re-read) what it holds. */
  rolledBack(): void;
  /** The outermost unit of work committed (caches that remember what they changed may forget it). */
  committed?(): void;
}

/**
 * The one way state changes: a unit of work owns the SQLite transaction and every cache that
 * writes through inside it. When the work throws, the transaction rolls back and every registered
 * cache is told, so no writer has to remember which caches it touched. Nested units are
 * savepoints: the inner one rolls back alone, and the caches re-read the outer transaction's view.
 */
export class UnitOfWork {
  readonly #caches: TransactionalCache[] = [];
  readonly #run: (fn: () => unknown) => unknown;
  stats = { committed: 0, rolledBack: 0 };

  constructor(private readonly db: Db) {
    this.#run = db.transaction((fn: () => unknown) => fn());
  }

  /** Caches are told in the order they were registered. */
  register(cache: TransactionalCache): void {
    this.#caches.push(cache);
  }

  run<T>(work: () => T): T {
    try {
      const result = this.#run(work) as T;
      if (!this.db.inTransaction) {
        this.stats.committed++;
        for (const cache of this.#caches) cache.committed?.();
      }
      return result;
    } catch (err) {
      this.rolledBack();
      throw err;
    }
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** A transaction rolled back outside `run` (a commit that failed): tell every cache. */
  rolledBack(): void {
    this.stats.rolledBack++;
    for (const cache of this.#caches) cache.rolledBack();
  }
}
