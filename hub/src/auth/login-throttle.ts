import { ErrorCodes, HubError } from '../errors.js';

interface Entry {
  failures: number;
  /** No attempt for this pair before this time (epoch ms). */
  until: number;
  lastFailure: number;
}

export interface LoginThrottleOptions {
  /** Failures in a row that cost nothing; each one after them doubles the wait. */
  freeFailures: number;
  firstDelayMs: number;
  maxDelayMs: number;
  /** A pair whose last failure is this old starts again from zero. */
  forgetAfterMs: number;
  /** Pairs remembered at most (the least recently failed are forgotten first). */
  maxEntries: number;
}

export const LOGIN_THROTTLE_DEFAULTS: LoginThrottleOptions = {
  freeFailures: 3,
  firstDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 24 * 3600_000,
  maxEntries: 10_000,
};

/**
 * Failed logins slow down guessing for one (user name, client address) pair: after a few failures in
 * a row each further one doubles the wait before that pair may try again (1 s, 2 s, 4 s … 15 min).
 * Nothing locks a user name as such, so a stranger who types wrong passwords for someone else's name
 * delays only their own address; the right password from another address still works at once.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #o: LoginThrottleOptions;

  constructor(
    private readonly now: () => number,
    options: Partial<LoginThrottleOptions> = {},
  ) {
    this.#o = { ...LOGIN_THROTTLE_DEFAULTS, ...options };
  }

  /** Throws HUB_ERR_TOO_MANY_ATTEMPTS (with `retryAfterSeconds`) while the pair must wait. */
  check(username: string, address: string): void {
    const now = this.now();
    const e = this.#live(pairKey(username, address), now);
    if (e && e.until > now)
      throw new HubError(ErrorCodes.TOO_MANY_ATTEMPTS, 'too many failed logins; try again later', {
        details: { retryAfterSeconds: Math.ceil((e.until - now) / 1000) },
      });
  }

  failed(username: string, address: string): void {
    const now = this.now();
    const key = pairKey(username, address);
    const e = this.#live(key, now) ?? { failures: 0, until: 0, lastFailure: now };
    e.failures++;
    e.lastFailure = now;
    const over = e.failures - this.#o.freeFailures;
    if (over > 0)
      e.until = now + Math.min(this.#o.maxDelayMs, this.#o.firstDelayMs * 2 ** Math.min(over - 1, 30));
    // Re-inserted so the map's order is least recently failed first.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    while (this.#entries.size > this.#o.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  succeeded(username: string, address: string): void {
    this.#entries.delete(pairKey(username, address));
  }

  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, now: number): Entry | undefined {
    const e = this.#entries.get(key);
    if (e && now - e.lastFailure > this.#o.forgetAfterMs && e.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }
}

const pairKey = (username: string, address: string) => `${address}\u0000${username}`;
