import type { Meta } from './sqlite-db.js';

export interface RunHistory {
  /** Starts of a hub on this data dir, this one included. */
  starts: number;
  /** Starts after a run that did not stop cleanly (crash, kill -9, power cut), this one included. */
  unclean: number;
  /** When the last unclean end was noticed (epoch ms, real time), if ever. */
  lastUncleanAt: number | null;
  /** What the last crash said about itself, if it could (a fatal error's code and message). */
  lastCrash: { at: number; reason: string } | null;
}

const KEY = 'run_record';

interface Stored extends RunHistory {
  running: boolean;
}

/**
 * How often the hub on this data dir restarted, and why, for /healthz and /metrics: a supervisor
 * (systemd, Docker) restarts a crashed hub within seconds, and this is where that shows. A run marks
 * itself running at start and stopped at a clean stop; a start that finds the mark still set
 * follows an unclean end.
 */
export class RunRecord {
  #history: RunHistory;
  #crashed = false;

  constructor(
    private readonly meta: Meta,
    now: number,
  ) {
    const stored = this.#read();
    const unclean = stored.running;
    const history: Stored = {
      starts: stored.starts + 1,
      unclean: stored.unclean + (unclean ? 1 : 0),
      lastUncleanAt: unclean ? now : stored.lastUncleanAt,
      lastCrash: stored.lastCrash,
      running: true,
    };
    this.#write(history);
    this.#history = history;
  }

  get history(): RunHistory {
    return this.#history;
  }

  /** A fatal error is about to end the process: say why, for the next start's /healthz. */
  recordCrash(at: number, reason: string): void {
    this.#crashed = true;
    this.#history = { ...this.#history, lastCrash: { at, reason: reason.slice(0, 500) } };
    this.#write({ ...this.#history, running: true });
  }

  /** A clean stop; after a recorded crash the run stays marked unclean, whatever the shutdown does. */
  stopped(): void {
    if (this.#crashed) return;
    this.#write({ ...this.#history, running: false });
  }

  #read(): Stored {
    const raw = this.meta.get(KEY);
    const empty: Stored = { starts: 0, unclean: 0, lastUncleanAt: null, lastCrash: null, running: false };
    if (!raw) return empty;
    try {
      return { ...empty, ...(JSON.parse(raw) as Partial<Stored>) };
    } catch {
      return empty;
    }
  }

  #write(s: Stored): void {
    this.meta.set(KEY, JSON.stringify(s));
  }
}
