import type { Clock, TimerHandle } from '../clock/clock.js';
import type { TimerRow, TimerStore } from './timer-store.js';

/**
 * Arms persisted timers on the clock. The database row is the truth: when a clock timer fires,
 * the row is read again, and a row that was cancelled or moved is left alone. So arming inside a
 * transaction that later rolls back is harmless.
 */
export class Scheduler {
  readonly #armed = new Map<string, { handle: TimerHandle; dueAt: number }>();
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly store: TimerStore,
    private readonly onDue: (timer: TimerRow, late: boolean) => void,
  ) {}

  /** Arm every stored timer; those already due fire now, in due order, marked late. */
  start(): number {
    this.#stopped = false;
    const all = this.store.all();
    for (const t of all) this.#arm(t);
    return all.length;
  }

  stop(): void {
    this.#stopped = true;
    for (const { handle } of this.#armed.values()) handle.cancel();
    this.#armed.clear();
  }

  set(t: TimerRow): void {
    this.store.put(t);
    this.#arm(t);
  }

  cancel(key: string): void {
    this.store.delete(key);
    this.#armed.get(key)?.handle.cancel();
    this.#armed.delete(key);
  }

  has(key: string): boolean {
    return this.#armed.has(key) || this.store.get(key) !== undefined;
  }

  pending(): number {
    return this.#armed.size;
  }

  #arm(t: TimerRow): void {
    if (this.#stopped) return;
    this.#armed.get(t.key)?.handle.cancel();
    const armedAt = this.clock.now();
    const handle = this.clock.at(t.dueAt, () => {
      const cur = this.#armed.get(t.key);
      if (cur?.handle === handle) this.#armed.delete(t.key);
      const row = this.store.get(t.key);
      if (!row || row.dueAt !== t.dueAt) return;
      this.onDue(row, row.dueAt < armedAt);
    });
    this.#armed.set(t.key, { handle, dueAt: t.dueAt });
  }
}
