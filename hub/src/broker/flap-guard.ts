import { isIPv6 } from 'node:net';

interface Window {
  start: number;
  count: number;
  bannedUntil: number;
}

/** Keys tracked at most; past it the oldest entry is forgotten. */
const MAX_KEYS = 100_000;

/**
 * Counts connects per key (client id, or address) in fixed windows and bans a key that passes its
 * maximum for `banMs`. Real (monotonic) time, never the drill clock.
 */
export class FlapGuard {
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly banMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Milliseconds left on `key`'s ban, 0 when it is not banned. */
  bannedFor(key: string): number {
    const w = this.#windows.get(key);
    if (!w) return 0;
    return Math.max(0, Math.ceil(w.bannedUntil - this.now()));
  }

  /** Count one connect of `key`; true when this one passes `max` and starts a ban (max 0 = never). */
  hit(key: string, max: number): boolean {
    if (max <= 0) return false;
    const now = this.now();
    let w = this.#windows.get(key);
    if (!w) {
      if (this.#windows.size >= MAX_KEYS) this.#evict(now);
      w = { start: now, count: 0, bannedUntil: 0 };
      this.#windows.set(key, w);
    }
    if (now - w.start >= this.windowMs) {
      w.start = now;
      w.count = 0;
    }
    w.count++;
    if (w.count <= max) return false;
    w.bannedUntil = now + this.banMs;
    w.count = 0;
    w.start = now + this.banMs;
    return true;
  }

  get size(): number {
    return this.#windows.size;
  }

  /** Drop entries that are neither banned nor inside their window; if none is, the oldest. */
  #evict(now: number): void {
    for (const [key, w] of this.#windows) {
      if (w.bannedUntil <= now && now - w.start >= this.windowMs) this.#windows.delete(key);
    }
    if (this.#windows.size >= MAX_KEYS) this.#windows.delete(this.#windows.keys().next().value as string);
  }
}

/**
 * The key an address is counted under: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64, which is
 * what one site or one subscriber gets, so an attacker cannot dodge the ban by rotating addresses in it.
 */
export function addressKey(remote: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (v4) return v4[1] as string;
  if (!isIPv6(remote)) return remote;
  const [head = '', tail = ''] = remote.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = remote.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
