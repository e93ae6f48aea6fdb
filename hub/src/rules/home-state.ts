import type { Db } from '../store/sqlite-db.js';

export type HomeMode = 'home' | 'away' | 'maintenance';

/** Everything the rules remember about one home, kept as one row so homes can be partitioned later. */
export interface HomeState {
  mode: HomeMode;
  modeUntil: number | null;
  /** When the hub started watching this home: the baseline before any activity is seen. */
  watchedSince: number;
  lastActivityAt: number | null;
  lastMotionAt: number | null;
  doors: Record<string, { open: boolean; since: number }>;
  /** Devices with a battery_low alert raised and not yet recovered. */
  batteryLow: Record<string, true>;
  /** Devices whose last status was offline. */
  offline: Record<string, number>;
  lastSeen: Record<string, number>;
  lastSmokeTestAt: Record<string, number>;
}

export function freshHomeState(now: number): HomeState {
  return {
    mode: 'home',
    modeUntil: null,
    watchedSince: now,
    lastActivityAt: null,
    lastMotionAt: null,
    doors: {},
    batteryLow: {},
    offline: {},
    lastSeen: {},
    lastSmokeTestAt: {},
  };
}

/** Write-through cache over the home_state table. */
export class HomeStateRepo {
  readonly #cache = new Map<string, HomeState>();
  readonly #get;
  readonly #put;

  constructor(db: Db) {
    this.#get = db.prepare<[string], { data: string }>('SELECT data FROM home_state WHERE home_id = ?');
    this.#put = db.prepare(
      'INSERT INTO home_state(home_id, data) VALUES (?, ?) ON CONFLICT(home_id) DO UPDATE SET data = excluded.data',
    );
  }

  /** The home's state; created (and stored) on first use with `now` as the watch baseline. */
  load(homeId: string, now: number): HomeState {
    const cached = this.#cache.get(homeId);
    if (cached) return cached;
    const row = this.#get.get(homeId);
    const state = row
      ? { ...freshHomeState(now), ...(JSON.parse(row.data) as Partial<HomeState>) }
      : freshHomeState(now);
    this.#cache.set(homeId, state);
    if (!row) this.save(homeId, state);
    return state;
  }

  save(homeId: string, state: HomeState): void {
    this.#cache.set(homeId, state);
    this.#put.run(homeId, JSON.stringify(state));
  }

  /** Forget cached copies (after a rolled-back transaction the cache may hold uncommitted changes). */
  invalidate(homeId?: string): void {
    if (homeId) this.#cache.delete(homeId);
    else this.#cache.clear();
  }
}
