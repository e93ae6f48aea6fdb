import { ManualClock } from '../clock/clock.js';
import type { HubConfig } from '../config/schema.js';
import { loadCatalog, Messages } from '../i18n/messages.js';
import type { Logger } from '../log.js';
import { Metrics } from '../metrics.js';
import type { Positioned } from '../model/entries.js';
import type { Directory } from '../site/directory.js';
import { type HubStore, openStore } from '../store/open-store.js';
import { type StateDigest, stateDigest } from '../store/state-digest.js';
import { openDirectory } from './directory-seed.js';
import { type HubCore, openCore } from './open-core.js';
import type { SubmittedEntry } from './state-machine.js';

/**
 * A data dir's state machine with nothing attached: no listeners, no timers fired, no effects
 * leaving the process. It applies what its log holds (and what it is given) and tells its digest:
 * `carehub digest` and `carehub replay`, and a node that only follows a log.
 */
export class Replica {
  readonly #store: HubStore;
  readonly #core: HubCore;
  readonly #directory: Directory;

  private constructor(
    private readonly config: Readonly<HubConfig>,
    log: Logger,
  ) {
    this.#store = openStore(config.dataDir, log);
    this.#directory = openDirectory(config, this.#store);
    this.#core = openCore({
      store: this.#store,
      directory: this.#directory,
      messages: new Messages(loadCatalog()),
      // Never advanced and never started: the applier takes every time from the entries.
      clock: new ManualClock(0),
      metrics: new Metrics(false),
      log,
    });
  }

  /** Lock and open the data dir of `config`, and apply what its log holds beyond the last applied entry. */
  static open(config: Readonly<HubConfig>, log: Logger): Replica {
    const replica = new Replica(config, log);
    try {
      replica.#core.soft.recover();
      replica.#core.machine.drain();
    } catch (err) {
      replica.close();
      throw err;
    }
    return replica;
  }

  get position(): number {
    return this.#core.machine.processedSeq();
  }

  /** The position of the first entry its log keeps (1 unless retention trimmed it), undefined when empty. */
  get firstPosition(): number | undefined {
    return this.#store.journal.firstSeq();
  }

  /** Entries of this log after `position`, at most `limit`. */
  read(position: number, limit: number): Positioned[] {
    return this.#store.journal.readAfter(position, limit);
  }

  /** Append and apply entries of another log at their own positions. */
  copy(page: readonly Positioned[]): void {
    this.#core.machine.copy(page);
  }

  /** The site directory as this data dir holds it. */
  get directory(): Directory {
    return this.#directory;
  }

  /** Whether the directory was seeded (from the file) in this data dir. */
  get seeded(): boolean {
    return this.#store.directory.seededAt() !== undefined;
  }

  /** The alerts of a home not yet resolved (an erasure's check). */
  unresolvedAlerts(homeId: string): number {
    return this.#store.alerts.unresolvedIn(homeId);
  }

  /** Entries made here (`carehub import`), appended and applied together or not at all. */
  submitAll(entries: readonly SubmittedEntry[]): unknown[] {
    return this.#core.machine.submitAllNow(entries);
  }

  /** The state digest at the current position (soft state written first). */
  digest(): StateDigest {
    this.#core.soft.flush(Number.POSITIVE_INFINITY);
    return stateDigest(this.#store.db, this.position, this.config.feed.retainEvents);
  }

  close(): void {
    this.#core.soft.stop();
    this.#store.journal.close();
    this.#store.close();
  }
}
