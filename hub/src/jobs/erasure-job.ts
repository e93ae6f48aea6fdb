import type { Logger } from '../log.js';
import type { HomeErasure } from '../store/home-erasure.js';

/** Pause between steps: the event loop serves devices and staff in between. */
const STEP_GAP_MS = 5;

/**
 * Erases the log rows of removed homes and residents in small steps (store/home-erasure.ts), in real
 * time, until none is queued: kicked by the applier's `home.erased` effect, and at start for what a
 * stop left queued.
 */
export class ErasureJob {
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #steps = 0;

  constructor(
    private readonly erasure: HomeErasure,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#stopped = false;
    this.kick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Work to do (or maybe): step until the queue is empty. */
  kick(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => this.#step(), STEP_GAP_MS);
    this.#timer.unref();
  }

  #step(): void {
    this.#timer = undefined;
    let more: boolean;
    try {
      more = this.erasure.step();
    } catch (err) {
      // The queue row stays: the next kick (or start) tries again.
      this.log.error({ err }, 'erasing log rows failed; will retry');
      if (!this.#stopped) this.#timer = setTimeout(() => this.#step(), 5000).unref();
      return;
    }
    if (more) {
      this.#steps++;
      this.kick();
    } else if (this.#steps > 0) {
      this.log.info({ steps: this.#steps }, 'removed homes and residents erased from the log');
      this.#steps = 0;
    }
  }
}
