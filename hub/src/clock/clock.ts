import { TimerQueue } from './timer-queue.js';

export interface TimerHandle {
  cancel(): void;
}

/** All time the hub's logic sees. Rules and alerts never read Date.now() or call setTimeout directly. */
export interface Clock {
  readonly kind: 'system' | 'manual';
  now(): number;
  /** Run `fn` once at epoch ms `at` (immediately on the next turn if `at` has passed). */
  at(at: number, fn: () => void): TimerHandle;
}

/** setTimeout waits at most ~24.8 days; longer waits are made in steps. */
const MAX_WAIT = 2 ** 31 - 1;

/**
 * Real time. All timers wait in one queue behind a single platform timer set for the first one due,
 * so a site's tens of thousands of armed rule timers cost a small object each, not a Node timer and
 * its closures. Waits are measured on the monotonic clock from the moment a timer is set, as
 * setTimeout measures them.
 */
export class SystemClock implements Clock {
  readonly kind = 'system' as const;
  readonly #queue = new TimerQueue();
  #wake: NodeJS.Timeout | undefined;
  /** Monotonic time the platform timer is set for. */
  #wakeAt = Number.POSITIVE_INFINITY;

  now(): number {
    return Date.now();
  }

  at(at: number, fn: () => void): TimerHandle {
    const now = performance.now();
    const wait = at - Date.now();
    // A time that has passed (or is not a number) runs on the next turn, never inside this call.
    const timer = this.#queue.add(wait > 0 ? now + wait : now, fn);
    if (timer.index === 0) this.#arm(now);
    return timer;
  }

  #arm(now: number): void {
    const first = this.#queue.peek();
    if (!first || (this.#wake && first.due >= this.#wakeAt)) return;
    clearTimeout(this.#wake);
    const wait = Math.min(first.due - now, MAX_WAIT);
    this.#wakeAt = now + wait;
    this.#wake = setTimeout(() => this.#fire(), Math.max(0, wait));
    this.#wake.unref();
  }

  /** Run every timer due by now, in due order; timers they set wait for the next turn. */
  #fire(): void {
    this.#wake = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const setBefore = this.#queue.nextOrder;
    try {
      for (let t = this.#queue.peek(); t && t.due <= now && t.order < setBefore; t = this.#queue.peek()) {
        this.#queue.remove(t);
        t.fn();
      }
    } finally {
      this.#arm(performance.now());
    }
  }
}

/**
 * Drill clock: time moves only when `advance` is called, and every timer that falls due fires in
 * time order (ties in the order they were set), with `now()` equal to the timer's due time.
 */
export class ManualClock implements Clock {
  readonly kind = 'manual' as const;
  #now: number;
  readonly #queue = new TimerQueue();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  at(at: number, fn: () => void): TimerHandle {
    // A time that is not a number never falls due (but stays pending).
    return this.#queue.add(Number.isNaN(at) ? Number.POSITIVE_INFINITY : Math.max(at, this.#now), fn);
  }

  /** Move forward by `ms`, firing due timers in order. Returns how many fired. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance needs a non-negative number of ms');
    const target = this.#now + ms;
    let fired = 0;
    for (let t = this.#queue.peek(); t && t.due <= target; t = this.#queue.peek()) {
      this.#queue.remove(t);
      this.#now = Math.max(this.#now, t.due);
      t.fn();
      fired++;
    }
    this.#now = target;
    return fired;
  }

  pending(): number {
    return this.#queue.size;
  }
}
