import type { Clock } from '../clock/clock.js';
import { ErrorCodes, HubError, isHubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { DeviceLogEntry, LogEntry, Positioned } from '../model/entries.js';
import type { TimerRow } from '../model/timer.js';
import type { CommitHook, CommittedRow, Journal } from '../store/journal.js';
import type { Meta } from '../store/sqlite-db.js';
import type { TransactionalCache, UnitOfWork } from '../store/unit-of-work.js';
import { type Applied, emptyApplied, mergeApplied } from './applied.js';
import type { Applier } from './applier.js';
import type { Effects } from './effects.js';

const PROCESSED_KEY = 'processed_seq';
const BATCH = 500;
/** A timer whose entry could not be applied is fired again after this long. */
const TIMER_RETRY_MS = 5000;

/** Every entry kind but device events, which arrive through the journal's group commit. */
export type SubmittedEntry = Exclude<LogEntry, DeviceLogEntry>;

/**
 * A log kept elsewhere (a replicated stream): entries are appended there, and come back, to every
 * node, through `copy()`. Submitting then means appending and waiting for the local application.
 */
export interface RemoteLog {
  /** This node's name: entries it submits carry it, so it finds their outcome. */
  readonly node: string;
  /** Append durably (on a quorum); resolves with the entry's position. */
  append(entry: SubmittedEntry & { node: string }): Promise<number>;
}

/** What applying an entry gave its submitter: a value, or the coded error that refused it. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Outcomes of this node's entries kept for their submitters (the answer may come back first). */
const MAX_OUTCOMES = 10_000;
/** How long a submitter waits for its entry to come back from the replicated log. */
const SUBMIT_TIMEOUT_MS = 30_000;

interface CommittedBatch {
  commit: number;
  applied: Applied;
}

/**
 * The hub's state machine: the log, the applier and the effects in one loop. Every change enters
 * here as a log entry, is applied in log order inside one unit of work together with the
 * `processed_seq` marker (so after a crash each entry is applied exactly once: the rows after the
 * marker are applied at start), and its effects run after the commit.
 *
 * Device events come through the journal's group commit and are applied inside that commit (one
 * fsync for rows and effects); their feed entries go out once the commit is on disk, as their
 * PUBACK does. Every other entry (staff actions, timers, modes, audit rows, the drill clock, a
 * start) is submitted: appended, applied and committed with a full sync in one unit of work, and
 * the submitter gets what applying it returned, or its error (then nothing of it was kept).
 */
export class StateMachine implements CommitHook, TransactionalCache {
  #running = false;
  #again = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Applied inside the journal commit under way; promoted when it commits, dropped when it does not. */
  #inFlight: CommittedBatch[] = [];
  /** Committed device batches waiting for their commit to be on disk. */
  #waitingForDisk: CommittedBatch[] = [];
  /** Set in a cluster: the log is the replicated stream, this store a copy of it. */
  #remote: RemoteLog | undefined;
  readonly #outcomes = new Map<number, Outcome>();
  readonly #waiters = new Map<number, (o: Outcome) => void>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly journal: Journal,
    private readonly applier: Applier,
    private readonly effects: Effects,
    private readonly meta: Meta,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    journal.setCommitHook(this);
    uow.register(this);
    journal.onCommit(() => {
      for (const b of this.#inFlight) this.#waitingForDisk.push(b);
      this.#inFlight = [];
      this.drain();
    });
    journal.onDurable((commit) => this.#dispatchDurable(commit));
  }

  /** Position of the last entry applied. */
  processedSeq(): number {
    return this.meta.getNumber(PROCESSED_KEY, 0);
  }

  /** From now on the log is `remote` (a cluster); this store only follows it through `copy()`. */
  useRemoteLog(remote: RemoteLog): void {
    this.#remote = remote;
  }

  get replicated(): boolean {
    return this.#remote !== undefined;
  }

  /**
   * Submit an entry and wait for it to be applied (HTTP, feed, timers). Alone, it is applied at
   * once, before this returns; in a cluster, once it comes back from the replicated log.
   */
  submit(entry: SubmittedEntry): Promise<unknown> {
    const remote = this.#remote;
    if (remote) return this.#submitRemote(remote, entry);
    try {
      return Promise.resolve(this.submitNow(entry));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async #submitRemote(remote: RemoteLog, entry: SubmittedEntry): Promise<unknown> {
    const position = await remote.append({ ...entry, node: remote.node });
    const outcome = await this.#outcomeOf(position);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  #outcomeOf(position: number): Promise<Outcome> {
    const known = this.#outcomes.get(position);
    if (known) {
      this.#outcomes.delete(position);
      return Promise.resolve(known);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(position);
        reject(
          new HubError(
            ErrorCodes.STORE_UNAVAILABLE,
            `entry ${position} was not applied here within ${SUBMIT_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, SUBMIT_TIMEOUT_MS);
      timer.unref();
      this.#waiters.set(position, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
    });
  }

  /** Submit, append, apply and commit now (single node: the log is local). Throws what applying threw. */
  submitNow(entry: SubmittedEntry): unknown {
    if (this.#remote) throw new Error('submitNow: the log is replicated; use submit()');
    const out = emptyApplied();
    const result = this.uow.run(() => {
      // Entries are applied in log order: anything left over goes first (normally nothing).
      this.#applyBacklog(out);
      const position = this.journal.appendNow(entry);
      const r = this.applier.apply(position, entry, out);
      this.meta.set(PROCESSED_KEY, position);
      return r;
    });
    this.effects.run(out);
    return result;
  }

  /**
   * Submit several entries that stand or fall together (an import, the seed of the directory):
   * appended, applied and committed in one unit of work. When one is refused, none is kept.
   * Returns what applying each returned.
   */
  submitAllNow(entries: readonly SubmittedEntry[]): unknown[] {
    if (this.#remote) throw new Error('submitAllNow: the log is replicated');
    const out = emptyApplied();
    const results = this.uow.run(() => {
      this.#applyBacklog(out);
      const answers: unknown[] = [];
      let position = this.processedSeq();
      for (const entry of entries) {
        position = this.journal.appendNow(entry);
        answers.push(this.applier.apply(position, entry, out));
      }
      this.meta.set(PROCESSED_KEY, position);
      return answers;
    });
    this.effects.run(out);
    return results;
  }

  /**
   * Entries of another log, at their own positions (a replay into an empty data dir, a cluster node
   * following the replicated log), put and applied in one unit of work. Positions must follow the
   * last one applied. A device event already in the log is not applied again; an entry the applier
   * refuses (a coded error: an alert already resolved, a version conflict) stays in the log and
   * changes nothing, on every node alike, and its submitter hears the error.
   */
  copy(page: readonly Positioned[]): void {
    if (page.length === 0) return;
    const out = emptyApplied();
    const answers: Array<[number, Outcome]> = [];
    this.uow.run(() => {
      // A catch-up is applied first, as for a submitted entry.
      this.#applyBacklog(out);
      let last = this.processedSeq();
      for (const { position, entry } of page) {
        if (position <= last) throw new Error(`entry ${position} does not follow ${last}`);
        last = position;
        if (!this.journal.insertAt(position, entry)) continue;
        const outcome = this.#applyRefusable(position, entry, out);
        if (
          entry.kind !== 'device' &&
          this.#remote &&
          (entry as { node?: string }).node === this.#remote.node
        )
          answers.push([position, outcome]);
      }
      this.meta.set(PROCESSED_KEY, last);
    });
    this.effects.run(out);
    for (const [position, outcome] of answers) this.#answer(position, outcome);
  }

  /** Apply one entry in its own savepoint: a refusal (a HubError) undoes only that entry. */
  #applyRefusable(position: number, entry: LogEntry, out: Applied): Outcome {
    const mine = emptyApplied();
    try {
      const value = this.uow.run(() => this.applier.apply(position, entry, mine));
      mergeApplied(out, mine);
      return { ok: true, value };
    } catch (err) {
      if (!isHubError(err)) throw err;
      return { ok: false, error: err };
    }
  }

  #answer(position: number, outcome: Outcome): void {
    const waiter = this.#waiters.get(position);
    if (waiter) {
      this.#waiters.delete(position);
      waiter(outcome);
      return;
    }
    this.#outcomes.set(position, outcome);
    if (this.#outcomes.size > MAX_OUTCOMES)
      this.#outcomes.delete(this.#outcomes.keys().next().value as number);
  }

  /** A stored timer fell due (the scheduler's callback): its entry, or another try in a few seconds. */
  fireTimer(row: TimerRow, late: boolean, retry: (key: string, at: number) => void): void {
    const entry: SubmittedEntry = {
      kind: 'timer',
      at: this.clock.now(),
      key: row.key,
      dueAt: row.dueAt,
      late,
    };
    const failed = (err: unknown) => {
      this.log.error({ err, timer: row.key }, 'timer handling failed; retrying in 5 s');
      retry(row.key, this.clock.now() + TIMER_RETRY_MS);
    };
    if (this.#remote) {
      this.submit(entry).catch(failed);
      return;
    }
    // Alone, at once: the rollback re-armed the timer at its due time, and the retry must move it
    // before the clock (a drill's advance, too) fires it again.
    try {
      this.submitNow(entry);
    } catch (err) {
      failed(err);
    }
  }

  /** Apply everything the log holds beyond the marker. Re-entrant calls coalesce. */
  drain(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        for (;;) {
          const out = emptyApplied();
          const n = this.uow.run(() => this.#applyBacklog(out, BATCH));
          if (n === 0) break;
          this.#failures = 0;
          this.effects.run(out);
        }
      } while (this.#again);
      this.metrics.journalLag.set(0);
    } catch (err) {
      // Nothing is lost: the entries stay in the log beyond the marker. Retry with backoff.
      this.#failures++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.#failures, 7));
      this.metrics.journalLag.set(this.journal.lastSeq() - this.processedSeq());
      this.log.error(
        { err, retryInMs: delay, failures: this.#failures },
        'applying log entries failed; will retry',
      );
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.drain();
      }, delay);
      this.#retry.unref();
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /**
   * CommitHook: apply the device rows a journal commit is adding, inside that commit. Only when they
   * are next in line (nothing older is waiting) and no drain is running; otherwise drain() takes them.
   */
  inTransaction(rows: readonly CommittedRow[], commit: number): void {
    const first = rows[0];
    if (this.#running || this.#retry || !first) return;
    if (this.journal.readAfter(this.processedSeq(), 1)[0]?.position !== first.seq) return;
    const out = emptyApplied();
    for (const { seq, entry } of rows) {
      const device: DeviceLogEntry = {
        kind: 'device',
        at: entry.receivedAt,
        deviceId: entry.deviceId,
        homeId: entry.homeId,
        type: entry.type,
        payload: entry.payload,
        eventId: entry.eventId,
        decoded: entry.event,
      };
      this.applier.apply(seq, device, out);
    }
    this.meta.set(PROCESSED_KEY, (rows[rows.length - 1] as CommittedRow).seq);
    this.#inFlight.push({ commit, applied: out });
  }

  /** TransactionalCache: what was applied inside an unfinished commit is gone with it. */
  rolledBack(): void {
    this.#inFlight = [];
  }

  /** Apply up to `limit` entries after the marker, in the caller's unit of work. Returns how many. */
  #applyBacklog(out: Applied, limit = Number.POSITIVE_INFINITY): number {
    let applied = 0;
    while (applied < limit) {
      const page = this.journal.readAfter(this.processedSeq(), Math.min(BATCH, limit - applied));
      if (page.length === 0) break;
      for (const { position, entry } of page) this.applier.apply(position, entry, out);
      this.meta.set(PROCESSED_KEY, (page[page.length - 1] as { position: number }).position);
      applied += page.length;
    }
    return applied;
  }

  #dispatchDurable(commit: number): void {
    if (this.#waitingForDisk.length === 0) return;
    const ready = this.#waitingForDisk.filter((b) => b.commit <= commit);
    if (ready.length === 0) return;
    this.#waitingForDisk = this.#waitingForDisk.filter((b) => b.commit > commit);
    for (const b of ready) {
      this.#failures = 0;
      this.effects.run(b.applied);
    }
  }
}
