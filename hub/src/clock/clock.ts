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

export class SystemClock implements Clock {
  readonly kind = 'system' as const;
  now(): number {
    return Date.now();
  }
  at(at: number, fn: () => void): TimerHandle {
    // setTimeout caps at ~24.8 days; re-arm in steps for longer waits.
    const MAX = 2 ** 31 - 1;
    let timer: NodeJS.Timeout;
    const arm = () => {
      const wait = at - Date.now();
      timer = setTimeout(wait > MAX ? arm : fn, Math.max(0, Math.min(wait, MAX)));
      timer.unref?.();
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  }
}

interface ManualTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Drill clock: time moves only when `advance` is called, and every timer that falls due fires in
 * time order (ties in the order they were set), with `now()` equal to the timer's due time.
 */
export class ManualClock implements Clock {
  readonly kind = 'manual' as const;
  #now: number;
  #order = 0;
  #timers: ManualTimer[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  at(at: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = { at: Math.max(at, this.#now), order: this.#order++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Move forward by `ms`, firing due timers in order. Returns how many fired. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance needs a non-negative number of ms');
    const target = this.#now + ms;
    let fired = 0;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.order < next.order)))
          next = t;
      }
      if (!next) break;
      next.cancelled = true;
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      fired++;
    }
    this.#now = target;
    return fired;
  }

  pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}
