import type { Clock, TimerHandle } from '../clock/clock.js';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FeedLog } from '../store/feed-log.js';
import type { Journal } from '../store/journal.js';
import { LocalTrimmer, type Trimmed } from '../store/retention.js';
import { type Db, withoutFsync } from '../store/sqlite-db.js';

const HOURLY = 3600_000;
/** Rows deleted per turn (a few ms each). */
const TRIM_CHUNK = 2000;

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
 * Never what the applier or the time-series shipper still needs. The deletes go TRIM_CHUNK rows a
 * turn, without fsync (after a power cut they are made again an hour later), pausing while the
 * checkpointer holds journal commits so that it can restart the WAL.
 */
export class RetentionJob {
  #timer: TimerHandle | undefined;
  #stopped = false;
  readonly #trimmer: LocalTrimmer;

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly db: Db,
    private readonly journal: Journal,
    private readonly feedLog: FeedLog,
    private readonly clock: Clock,
    private readonly processed: () => number,
    private readonly shipping: ShippingFloors | undefined,
    private readonly log: Logger,
  ) {
    this.#trimmer = new LocalTrimmer(db);
  }

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
    this.#trimLocal(this.clock.now(), keepAfter, { journal: 0, deadLetters: 0 });
  }

  #trimLocal(now: number, keepAfter: number, total: Trimmed): void {
    if (this.#stopped) return;
    if (this.journal.held) {
      setTimeout(() => this.#trimLocal(now, keepAfter, total), 5).unref();
      return;
    }
    let more = false;
    try {
      const r = withoutFsync(this.db, () =>
        this.#trimmer.step(now, this.config.retention, keepAfter, TRIM_CHUNK),
      );
      total.journal += r.journal;
      total.deadLetters += r.deadLetters;
      more = r.more;
    } catch (err) {
      this.log.error({ err }, 'retention job failed');
    }
    if (more) setImmediate(() => this.#trimLocal(now, keepAfter, total));
    else if (total.journal + total.deadLetters > 0)
      this.log.info(total, 'retention: old device events and dead letters deleted');
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
