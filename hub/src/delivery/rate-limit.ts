/**
 * Token buckets per key (a channel, a robot): `perMinute` sends a minute, in bursts of up to that
 * many, refilled continuously. Real time: the services count real minutes, whatever the drill clock says.
 */
export class RateLimits {
  readonly #buckets = new Map<string, { tokens: number; at: number; perMinute: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Take one send from the bucket; false when it is empty. */
  take(key: string, perMinute: number): boolean {
    const b = this.#refill(key, perMinute);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Ms until the bucket holds a send again (0 when it does). */
  waitMs(key: string, perMinute: number): number {
    const b = this.#refill(key, perMinute);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) * 60_000) / perMinute);
  }

  /** The service said it is over its limit: empty the bucket. */
  drain(key: string, perMinute: number): void {
    this.#refill(key, perMinute).tokens = 0;
  }

  #refill(key: string, perMinute: number) {
    const now = this.now();
    let b = this.#buckets.get(key);
    if (!b) {
      b = { tokens: perMinute, at: now, perMinute };
      this.#buckets.set(key, b);
    }
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(perMinute, b.tokens + (elapsed * perMinute) / 60_000);
    b.at = now;
    return b;
  }
}
