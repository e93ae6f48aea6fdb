/** Rate of one class of clients: tokens refilled per second, and the bucket size (burst). 0/s = unlimited. */
export interface Rate {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept at most; the oldest is forgotten first (it starts full again, which only favours that client). */
const MAX_BUCKETS = 100_000;

/**
 * Token buckets keyed by client id. Buckets outlive connections, so reconnecting does not refill one.
 * Real (monotonic) time, never the drill clock: a drill that plays a day in seconds is not a flood.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Take one token for `key`; false when the bucket is empty (the publish should be dropped). */
  take(key: string, rate: Rate): boolean {
    if (rate.perSecond <= 0) return true;
    const now = this.now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= MAX_BUCKETS)
        this.#buckets.delete(this.#buckets.keys().next().value as string);
      b = { tokens: rate.burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }
}
