import type { Clock, TimerHandle } from '../clock/clock.js';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FeedLog } from '../store/feed-log.js';
import { trimLocal } from '../store/retention.js';
import type { Db } from '../store/sqlite-db.js';

const HOURLY = 3600_000;

/** What the time-series shipper has not shipped yet, which retention must keep. */
export interface ShippingFloors {
  /** The lowest feed_log seq not yet shipped. */
  retainFloor(): number;
  /** The newest journal seq already shipped. */
  journalShipped(): number;
}

/**
 * Hourly on the hub's clock (so a drill that plays a month also exercises it): keep
 * `feed.retainEvents` feed entries, delete device events and dead letters past their retention.
 * Never what the applier or the time-series shipper still needs.
 */
export class RetentionJob {
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly db: Db,
    private readonly feedLog: FeedLog,
    private readonly clock: Clock,
    private readonly processed: () => number,
    private readonly shipping: ShippingFloors | undefined,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#stopped = false;
    this.runOnce();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  runOnce(): void {
    const retain = this.config.feed.retainEvents;
    const floor = this.shipping?.retainFloor();
    this.feedLog.trim(floor === undefined ? retain : Math.max(retain, this.feedLog.currentSeq() - floor + 1));
    const processed = this.processed();
    const keepAfter = Math.min(processed, this.shipping?.journalShipped() ?? processed);
    const trimmed = trimLocal(this.db, this.clock.now(), this.config.retention, keepAfter);
    if (trimmed.journal + trimmed.deadLetters > 0)
      this.log.info(trimmed, 'retention: old device events and dead letters deleted');
  }

  #schedule(): void {
    this.#timer = this.clock.at(this.clock.now() + HOURLY, () => {
      if (this.#stopped) return;
      try {
        this.runOnce();
      } catch (err) {
        this.log.error({ err }, 'retention job failed');
      }
      this.#schedule();
    });
  }
}
