import type { Clock, TimerHandle } from '../clock/clock.js';
import type { TimerRow } from '../model/timer.js';
import type { TimerStore } from '../store/timer-store.js';
import type { TransactionalCache } from '../store/unit-of-work.js';

/** A stored timer as mirrored in memory, with its clock timer while armed. */
interface Entry {
  dueAt: number;
  handle: TimerHandle | undefined;
}

/**
 * Arms persisted timers on the clock. The database row is the truth: when a clock timer fires,
 * the row is read again, and a row that was cancelled or moved is left alone. So arming inside a
 * transaction that later rolls back is harmless.
 *
 * The keys and due times of the rows are mirrored in memory, so that asking for a timer or
 * cancelling one that does not exist (most messages do) costs no SQL. A rolled-back transaction
 * can leave the mirror and the armed clock timers wrong: whoever sees the rollback calls
 * `invalidate()`, which rebuilds both from the table.
 */
export class Scheduler implements TransactionalCache {
  /** Every stored row (loaded on first use), armed or not. */
  #timers: Map<string, Entry> | undefined;
  /** Until start() (and after stop()) rows are kept but nothing is armed: a replica that only applies the log fires nothing. */
  #stopped = true;

  constructor(
    private readonly clock: Clock,
    private readonly store: TimerStore,
    private readonly onDue: (timer: TimerRow, late: boolean) => void,
  ) {}

  /**
   * Arm every stored timer not armed yet (ensureAll arms some just before); those already due are
   * armed again so that they fire now in due order (then key), marked late. Reads keys and due
   * times only: at start that is every timer of the site.
   */
  start(): number {
    this.#stopped = false;
    const rows = this.store.keys().map(([key, dueAt]) => ({ key, dueAt }));
    this.#sync(rows, this.clock.now());
    return rows.length;
  }

  stop(): void {
    this.#stopped = true;
    for (const entry of this.#timers?.values() ?? []) {
      entry.handle?.cancel();
      entry.handle = undefined;
    }
  }

  set(t: TimerRow): void {
    const timers = this.#rows();
    this.store.put(t);
    let entry = timers.get(t.key);
    if (entry) entry.dueAt = t.dueAt;
    else {
      entry = { dueAt: t.dueAt, handle: undefined };
      timers.set(t.key, entry);
    }
    this.#arm(t.key, entry);
  }

  cancel(key: string): void {
    const timers = this.#rows();
    const entry = timers.get(key);
    if (!entry) return;
    this.store.delete(key);
    entry.handle?.cancel();
    timers.delete(key);
  }

  has(key: string): boolean {
    return this.#rows().has(key);
  }

  /** When the stored timer is due; undefined when there is none. */
  dueAt(key: string): number | undefined {
    return this.#rows().get(key)?.dueAt;
  }

  /**
   * Fire the stored timer `key` again at `at` (its handling failed): only the clock timer moves;
   * the row, and so the state, stays as it is.
   */
  retry(key: string, at: number): void {
    const entry = this.#rows().get(key);
    if (!entry || this.#stopped) return;
    entry.handle?.cancel();
    const dueAt = entry.dueAt;
    const handle = this.clock.at(at, () => {
      if (entry.handle === handle) entry.handle = undefined;
      const row = this.store.get(key);
      if (row && row.dueAt === dueAt) this.onDue(row, true);
    });
    entry.handle = handle;
  }

  /** Clock timers armed. */
  pending(): number {
    let n = 0;
    for (const entry of this.#timers?.values() ?? []) if (entry.handle) n++;
    return n;
  }

  rolledBack(): void {
    this.invalidate();
  }

  /** After a rolled-back transaction: re-read the stored timers, re-arm what the rollback restored or moved. */
  invalidate(): void {
    this.#sync(
      this.store.keys().map(([key, dueAt]) => ({ key, dueAt })),
      Number.NEGATIVE_INFINITY,
    );
  }

  #rows(): Map<string, Entry> {
    if (!this.#timers) {
      this.#timers = new Map();
      for (const [key, dueAt] of this.store.keys()) this.#timers.set(key, { dueAt, handle: undefined });
    }
    return this.#timers;
  }

  /** Make the mirror the table's rows; arm those not armed at their due time, and again any due by `rearmDueBy`. */
  #sync(rows: ReadonlyArray<{ key: string; dueAt: number }>, rearmDueBy: number): void {
    const before = this.#timers ?? new Map<string, Entry>();
    const timers = new Map<string, Entry>();
    for (const { key, dueAt } of rows) {
      const prev = before.get(key);
      before.delete(key);
      const entry = prev ?? { dueAt, handle: undefined };
      const stale = entry.dueAt !== dueAt;
      entry.dueAt = dueAt;
      timers.set(key, entry);
      if (stale || !entry.handle || dueAt <= rearmDueBy) this.#arm(key, entry);
    }
    for (const gone of before.values()) gone.handle?.cancel();
    this.#timers = timers;
  }

  #arm(key: string, entry: Entry): void {
    if (this.#stopped) return;
    entry.handle?.cancel();
    const dueAt = entry.dueAt;
    const armedAt = this.clock.now();
    const handle = this.clock.at(dueAt, () => {
      if (entry.handle === handle) entry.handle = undefined;
      const row = this.store.get(key);
      if (!row || row.dueAt !== dueAt) return;
      this.onDue(row, row.dueAt < armedAt);
    });
    entry.handle = handle;
  }
}
