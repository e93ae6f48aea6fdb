import { type Done, promised } from '../async/callbacks.js';
import type { Logger } from '../log.js';
import type { DeviceLogEntry, LogEntry, Positioned } from '../model/entries.js';
import { HeartbeatIndex } from './heartbeat-index.js';
import { type Db, withoutFsync } from './sqlite-db.js';
import type { UnitOfWork } from './unit-of-work.js';
import { WalSync } from './wal-sync.js';

export interface JournalEntry {
  deviceId: string;
  homeId: string;
  receivedAt: number;
  /** Normalised event type ('sos.pressed', 'status.offline', …). */
  type: string;
  eventId?: string | undefined;
  /** MQTT message id of a QoS 1 publish, to recognise a redelivery that carries no event id. */
  mqttMid?: number | undefined;
  /** MQTT DUP flag: only then is the redelivery check made. */
  dup?: boolean | undefined;
  /** The normalised event as JSON. */
  payload: string;
  /**
   * The same event as the decoded object `payload` was made from, when the caller has it: the
   * processor then reads its fields without parsing `payload` again. Never stored.
   */
  event?: Readonly<Record<string, unknown>> | undefined;
}

/** A row this commit added (not a duplicate), with the seq it got. */
export interface CommittedRow {
  seq: number;
  entry: JournalEntry;
}

/**
 * Work done inside the journal's commit transaction, so that one fsync covers the new rows and what
 * is derived from them (the applier applies the rows there). It runs as a nested unit of work (a
 * savepoint): when it throws, its writes are rolled back, every cache is told, and the rows are
 * still committed, for the state machine to apply later.
 */
export interface CommitHook {
  /** Inside the transaction, after this batch's rows are inserted; `rows` in seq order. */
  inTransaction(rows: readonly CommittedRow[], commit: number): void;
}

export interface AppendResult {
  seq: number;
  duplicate: boolean;
}

export interface JournalRow {
  seq: number;
  device_id: string;
  home_id: string;
  received_at: number;
  type: string;
  event_id: string | null;
  payload: string;
}

export interface DeadLetter {
  receivedAt: number;
  clientId: string;
  topic: string;
  reason: string;
  detail: string;
  payload: Buffer;
}

/**
 * Where ingest puts accepted device events and rejected messages: the journal alone; in a cluster,
 * the replicated log (events) and this node's journal (dead letters). `done` is called once the
 * event is durable (then the device gets its PUBACK), or with the error that kept it off.
 */
export interface DeviceEventLog {
  appendThen(entry: JournalEntry, done: AppendDone): void;
  append(entry: JournalEntry): Promise<AppendResult>;
  deadLetter(dead: DeadLetter): Promise<AppendResult>;
}

/** Life-safety events: committed (and so processed and on the feed) without waiting for the end of the turn. */
const URGENT: ReadonlySet<string> = new Set(['sos.pressed', 'smoke.detected']);

/** Called once: with the result after the commit is on disk, or with the error that kept it off. */
export type AppendDone = Done<AppendResult>;

type Pending =
  | { kind: 'entry'; entry: JournalEntry; done: AppendDone }
  | { kind: 'dead'; dead: DeadLetter; done: AppendDone };

/**
 * Durable append-only log of every accepted device message. Appends made in the same turn of the
 * event loop are committed in one transaction (group commit: one fsync for a burst); each append's
 * promise resolves only after that commit, which is what lets the broker PUBACK.
 */
export class Journal implements DeviceEventLog {
  #pending: Pending[] = [];
  #scheduled = false;
  #urgent = false;
  #closed = false;
  /** Commits held for a checkpoint (CommitGate); an urgent entry commits anyway. */
  #held = false;
  #urgentPending = false;
  readonly #insert;
  readonly #dupMid;
  readonly #afterSeq;
  readonly #maxSeq;
  readonly #firstSeq;
  readonly #commitBatch;
  readonly #insertDead;
  readonly #listeners: Array<() => void> = [];
  readonly #durableListeners: Array<(commit: number) => void> = [];
  readonly #insertOther;
  readonly #insertAt;
  #hook: CommitHook | undefined;
  /** Duplicate check and index sampling of heartbeats (they stay out of the per-device indexes). */
  readonly #heartbeats = new HeartbeatIndex();
  /** Journal commits so far, and the last of them known to be on disk (see WalSync). */
  #commitNo = 0;
  #durableNo = 0;
  readonly #walSync: WalSync | undefined;
  readonly #runHook;
  stats = { commits: 0, rows: 0, duplicates: 0 };

  constructor(
    private readonly db: Db,
    private readonly uow: UnitOfWork,
    private readonly log: Logger,
  ) {
    uow.register({ rolledBack: () => this.#heartbeats.forget() });
    // Entries other than device events: no device, kept out of the per-device indexes (indexed = 0).
    // A redelivered device event (same event id) is not put in again: the row is ignored, the
    // position stays empty, and insertAt reports it.
    this.#insertAt = db.prepare(
      `INSERT INTO journal(seq, device_id, home_id, received_at, type, event_id, mqtt_mid, payload, indexed)
       VALUES (@seq, @deviceId, @homeId, @at, @type, @eventId, @mid, @payload, @indexed)
       ON CONFLICT DO NOTHING`,
    );
    this.#insertOther = db.prepare<[string, number, string, string], { seq: number }>(
      `INSERT INTO journal(device_id, home_id, received_at, type, event_id, mqtt_mid, payload, indexed)
       VALUES ('', ?, ?, ?, NULL, NULL, ?, 0) RETURNING seq`,
    );
    this.#insert = db.prepare<
      [string, string, number, string, string | null, number | null, string, number],
      { seq: number }
    >(
      `INSERT INTO journal(device_id, home_id, received_at, type, event_id, mqtt_mid, payload, indexed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING seq`,
    );
    // A redelivery (DUP flag) is the device resending a recent publish whose PUBACK it missed. Look
    // only at the device's latest rows and the last hour: devices restart message ids at boot, and
    // matching an old press with a reused id would drop a new one. The order is journal_device_time's
    // own (received_at, then seq), so no sort of the device's whole history.
    this.#dupMid = db.prepare<[string, number, string, number], { seq: number }>(
      `SELECT seq FROM (SELECT seq, mqtt_mid, payload, received_at FROM journal WHERE device_id = ? AND indexed = 1 ORDER BY received_at DESC, seq DESC LIMIT 20)
       WHERE mqtt_mid = ? AND payload = ? AND received_at >= ? LIMIT 1`,
    );
    this.#afterSeq = db.prepare<[number, number], JournalRow>(
      'SELECT seq, device_id, home_id, received_at, type, event_id, payload FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.#maxSeq = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal');
    this.#firstSeq = db.prepare<[], { seq: number | null }>('SELECT min(seq) AS seq FROM journal');
    this.#insertDead = db.prepare(
      `INSERT INTO dead_letter(received_at, client_id, topic, reason, detail, payload)
       VALUES (@receivedAt, @clientId, @topic, @reason, @detail, @payload)`,
    );
    this.#walSync = WalSync.of(db);
    // A nested unit of work is a savepoint: a failing hook undoes only its own writes.
    this.#runHook = (hook: CommitHook, rows: CommittedRow[]) =>
      uow.run(() => hook.inTransaction(rows, this.#commitNo + 1));
    this.#commitBatch = db.transaction((batch: Pending[]) => {
      const added: CommittedRow[] = [];
      const results = batch.map((p) => {
        if (p.kind === 'dead') {
          this.#insertDead.run(p.dead);
          return { seq: 0, duplicate: false };
        }
        const r = this.#appendOne(p.entry);
        if (!r.duplicate) added.push({ seq: r.seq, entry: p.entry });
        return r;
      });
      const hook = this.#hook;
      if (hook && added.length > 0) {
        try {
          this.#runHook(hook, added);
        } catch (err) {
          this.log.warn(
            { err, rows: added.length },
            'work inside the journal commit failed; the rows are committed and left for the state machine',
          );
        }
      }
      return results;
    });
  }

  /** Run `hook` inside every commit that adds rows (one hook: the state machine). */
  setCommitHook(hook: CommitHook): void {
    this.#hook = hook;
  }

  append(entry: JournalEntry): Promise<AppendResult> {
    return promised((done) => this.appendThen(entry, done));
  }

  /** `append` without a promise, for the broker's hot path: `done` is called once, as above. */
  appendThen(entry: JournalEntry, done: AppendDone): void {
    this.#enqueue({ kind: 'entry', entry, done }, URGENT.has(entry.type));
  }

  /** Keep a rejected message (bounded by the caller's size cap) for inspection; committed with the next batch. */
  deadLetter(dead: DeadLetter): Promise<AppendResult> {
    return promised((done) => this.#enqueue({ kind: 'dead', dead, done }));
  }

  #enqueue(pending: Pending, urgent = false): void {
    if (this.#closed) {
      const done = pending.done;
      queueMicrotask(() => done(new Error('journal closed')));
      return;
    }
    this.#pending.push(pending);
    if (urgent) this.#urgentPending = true;
    if (urgent && !this.#urgent) {
      // A fire or an SOS does not wait for the rest of this turn's reads: commit what is pending
      // as soon as the current I/O callback returns (at most one such commit per callback).
      this.#urgent = true;
      process.nextTick(() => {
        this.#urgent = false;
        this.#flush();
      });
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  /** Called after every commit that added rows (the state machine applies any it left over). */
  onCommit(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Called once a commit (and every one before it) is on disk, with its number. */
  onDurable(listener: (commit: number) => void): void {
    this.#durableListeners.push(listener);
  }

  /**
   * Append an entry other than a device event now, in the caller's transaction (a unit of work
   * that applies it too and commits with a full sync). Returns its position.
   */
  appendNow(entry: Exclude<LogEntry, DeviceLogEntry>): number {
    if (this.#closed) throw new Error('journal closed');
    const homeId = 'homeId' in entry ? entry.homeId : '';
    const row = this.#insertOther.get(homeId, entry.at, entry.kind, JSON.stringify(entry)) as { seq: number };
    return row.seq;
  }

  /**
   * Put an entry of another log at its own position, in the caller's transaction (a replay into an
   * empty data dir, a cluster node following the replicated log): positions, and so alert ids, stay
   * those of the source. False when it is a device event already in the log (same event id, or a
   * DUP redelivery of a recent message): then nothing was put and the entry is not to be applied.
   */
  insertAt(position: number, entry: LogEntry): boolean {
    const device = entry.kind === 'device';
    if (
      device &&
      entry.dup &&
      entry.mqttMid !== undefined &&
      entry.eventId === undefined &&
      this.#dupMid.get(entry.deviceId, entry.mqttMid, entry.payload, entry.at - 3600_000)
    )
      return false;
    const info = this.#insertAt.run({
      seq: position,
      deviceId: device ? entry.deviceId : '',
      homeId: device || 'homeId' in entry ? entry.homeId : '',
      at: entry.at,
      type: device ? entry.type : entry.kind,
      eventId: device ? (entry.eventId ?? null) : null,
      mid: device ? (entry.mqttMid ?? null) : null,
      payload: device ? entry.payload : JSON.stringify(entry),
      // Device rows are indexed (duplicate check, device history); heartbeats are sampled by HeartbeatIndex live.
      indexed: device && entry.type !== 'heartbeat' ? 1 : 0,
    });
    return info.changes === 1;
  }

  /** The position of the first entry kept (retention trims old device events), or undefined when empty. */
  firstSeq(): number | undefined {
    return this.#firstSeq.get()?.seq ?? undefined;
  }

  /** Entries after position `seq`, in order, at most `limit`. */
  readAfter(seq: number, limit: number): Positioned[] {
    return this.#afterSeq.all(seq, limit).map((row) => ({ position: row.seq, entry: entryOf(row) }));
  }

  deviceEvents(
    deviceId: string,
    fromMs: number | undefined,
    toMs: number | undefined,
    limit: number,
  ): JournalRow[] {
    return this.db
      .prepare(
        `SELECT seq, device_id, home_id, received_at, type, event_id, payload FROM journal
         WHERE device_id = ? AND received_at >= ? AND received_at < ? AND indexed = 1
         ORDER BY received_at DESC, seq DESC LIMIT ?`,
      )
      .all(deviceId, fromMs ?? 0, toMs ?? Number.MAX_SAFE_INTEGER, limit) as JournalRow[];
  }

  lastSeq(): number {
    return this.#maxSeq.get()?.seq ?? 0;
  }

  /** Commit whatever is pending now (used on shutdown). */
  flushNow(): void {
    this.#flush(false, true);
  }

  /**
   * CommitGate for the checkpointer: no commits until `release`, so that a checkpoint can catch up
   * with the WAL and the next commit restarts it. Appends wait; an SOS or smoke alarm does not (it
   * commits what is pending, and that attempt at a restart is lost).
   */
  hold(): void {
    this.#held = true;
  }

  /** Commits are held for a checkpoint: other background writers (retention) wait too. */
  get held(): boolean {
    return this.#held;
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    if (this.#pending.length > 0) this.#flush();
  }

  close(): void {
    this.#held = false;
    this.#flush(true);
    this.#closed = true;
    if (this.#walSync) {
      // Everything committed is on disk before the processor's last drain dispatches it.
      this.#walSync.syncNow();
      this.#walSync.close();
    }
    this.#durableNo = this.#commitNo;
  }

  #appendOne(entry: JournalEntry): AppendResult {
    let indexed = true;
    if (entry.type === 'heartbeat') {
      const h = this.#heartbeats.admit(entry);
      if (h.duplicate) return { seq: 0, duplicate: true };
      indexed = h.indexed;
    } else if (entry.dup && entry.mqttMid !== undefined && entry.eventId === undefined) {
      const prior = this.#dupMid.get(
        entry.deviceId,
        entry.mqttMid,
        entry.payload,
        entry.receivedAt - 3600_000,
      );
      if (prior) return { seq: prior.seq, duplicate: true };
    }
    const row = this.#insert.get(
      entry.deviceId,
      entry.homeId,
      entry.receivedAt,
      entry.type,
      entry.eventId ?? null,
      entry.mqttMid ?? null,
      entry.payload,
      indexed ? 1 : 0,
    );
    if (row) return { seq: row.seq, duplicate: false };
    return { seq: 0, duplicate: true };
  }

  /** Number of the last journal commit. */
  get lastCommit(): number {
    return this.#commitNo;
  }

  /** Number of the last journal commit known to be on disk: what may be acknowledged and shown. */
  get durableCommit(): number {
    return this.#durableNo;
  }

  /** Tell one caller; a caller's exception must not keep the rest of the batch from hearing. */
  #settle(done: AppendDone, err: unknown, result?: AppendResult): void {
    try {
      done(err, result);
    } catch (thrown) {
      this.log.error({ err: thrown }, 'a journal append callback threw');
    }
  }

  /**
   * `inline`: the commit itself syncs (at close, so nothing is left waiting for a closed database).
   * `force`: even while held.
   */
  #flush(inline = false, force = false): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    if (this.#held && !inline && !force && !this.#urgentPending) return;
    this.#pending = [];
    this.#urgentPending = false;
    let results: AppendResult[];
    const sync = inline ? undefined : this.#walSync;
    try {
      // Only this commit skips the fsync, and only because WalSync does it before any PUBACK.
      results = sync ? withoutFsync(this.db, () => this.#commitBatch(batch)) : this.#commitBatch(batch);
    } catch (err) {
      this.log.error({ err, rows: batch.length }, 'journal commit failed');
      this.uow.rolledBack();
      for (const p of batch) this.#settle(p.done, err);
      return;
    }
    this.stats.commits++;
    const no = ++this.#commitNo;
    let added = 0;
    batch.forEach((p, i) => {
      if (p.kind !== 'entry') return;
      if ((results[i] as AppendResult).duplicate) this.stats.duplicates++;
      else added++;
    });
    this.stats.rows += added;
    // The processor dispatches now: an alarm reaches the duty screen without waiting for the disk
    // (see FeedLog.openEpoch for what a power cut before the fsync means for the feed).
    if (added > 0) for (const l of this.#listeners) l();
    // Only the callbacks wait for the disk: the entries (payloads, decoded events) are garbage from
    // here, before the next scavenge can find thousands of them still alive and copy them.
    const dones = batch.map((p) => p.done);
    const durable = (err: Error | null) => {
      this.#durableNo = Math.max(this.#durableNo, no);
      if (err) this.log.error({ err, rows: dones.length }, 'journal fsync failed: not acknowledging');
      else for (const l of this.#durableListeners) l(no);
      dones.forEach((done, i) => {
        // Not known to be on disk: no PUBACK; the device resends and the duplicate check answers.
        if (err) this.#settle(done, err);
        else this.#settle(done, null, results[i] as AppendResult);
      });
    };
    if (sync) sync.after(durable);
    else durable(null);
  }
}

/** A journal row as a log entry: device rows by their columns, every other entry stored whole as JSON. */
export function entryOf(row: JournalRow): LogEntry {
  if (row.device_id === '') return JSON.parse(row.payload) as LogEntry;
  const entry: DeviceLogEntry = {
    kind: 'device',
    at: row.received_at,
    deviceId: row.device_id,
    homeId: row.home_id,
    type: row.type,
    payload: row.payload,
  };
  if (row.event_id !== null) entry.eventId = row.event_id;
  return entry;
}
