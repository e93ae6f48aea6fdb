import { freshRhythm, type HomeRhythm } from '../model/home-rhythm.js';
import type { Db } from './sqlite-db.js';
import type { TransactionalCache } from './unit-of-work.js';

/**
 * Cache over the home_rhythm table: one JSON row per home (model/home-rhythm.ts). Read on a home's
 * first activity; written only by `save`, in the caller's transaction, which the rules call when
 * something in it changed (a few times a day per home, never per heartbeat or per motion report).
 */
export class HomeRhythmRepo implements TransactionalCache {
  readonly #cache = new Map<string, HomeRhythm>();
  readonly #get;
  readonly #put;
  readonly #remove;

  constructor(db: Db) {
    this.#remove = db.prepare<[string]>('DELETE FROM home_rhythm WHERE home_id = ?');
    this.#get = db.prepare<[string], { data: string }>('SELECT data FROM home_rhythm WHERE home_id = ?');
    this.#put = db.prepare<[string, string]>(
      'INSERT INTO home_rhythm(home_id, data) VALUES (?, ?) ON CONFLICT(home_id) DO UPDATE SET data = excluded.data',
    );
  }

  /**
   * The home's record for changing (inside the applier's unit of work). A home without one gets a
   * fresh one learning from `now`, stored at once: so the record, like everything the applier
   * writes, depends on the log alone, not on when a cache was last dropped.
   */
  load(homeId: string, now: number): HomeRhythm {
    const cached = this.#cache.get(homeId);
    if (cached) return cached;
    const stored = this.#read(homeId);
    if (stored) {
      this.#cache.set(homeId, stored);
      return stored;
    }
    const fresh = freshRhythm(now);
    this.save(homeId, fresh);
    return fresh;
  }

  /** For reading (the API): the record as the rules hold it, or undefined when the home has none yet. */
  peek(homeId: string): HomeRhythm | undefined {
    return this.#cache.get(homeId) ?? this.#read(homeId);
  }

  /** Write it now, in the caller's transaction. */
  save(homeId: string, r: HomeRhythm): void {
    this.#cache.set(homeId, r);
    this.#put.run(homeId, JSON.stringify(r));
  }

  /** A home's residents erased (removed, or the home deleted): what was learned goes, in the caller's transaction. */
  remove(homeId: string): void {
    this.#cache.delete(homeId);
    this.#remove.run(homeId);
  }

  rolledBack(): void {
    this.#cache.clear();
  }

  #read(homeId: string): HomeRhythm | undefined {
    const row = this.#get.get(homeId);
    return row ? { ...freshRhythm(0), ...(JSON.parse(row.data) as Partial<HomeRhythm>) } : undefined;
  }
}
