import { type JetStreamClient, type JetStreamManager, nanos, RetentionPolicy, StorageType } from 'nats';
import { type Done, promised } from '../async/callbacks.js';
import type { SubmittedEntry } from '../core/state-machine.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DeviceLogEntry } from '../model/entries.js';
import type { AppendDone, AppendResult, DeadLetter, DeviceEventLog, JournalEntry } from '../store/journal.js';

/** How long a publish waits for the quorum's ack before the device is left without its PUBACK. */
const PUBLISH_TIMEOUT_MS = 5000;
/** Redeliveries of a device event with an id (same device, same id) are dropped by the stream within this window. */
const DUPLICATE_WINDOW_MS = 10 * 60_000;
/** At most one "publish failed" line per this long (a NATS outage fails every device message). */
const FAILURE_LOG_MS = 5000;
/** A node whose last append failed less than this long ago (and none succeeded since) is not ready. */
const FAILING_MS = 5000;

export interface LogNames {
  stream: string;
  subject: string;
}

export function logNames(prefix: string): LogNames {
  return { stream: `${prefix}-log`, subject: `${prefix}.log` };
}

/**
 * The replicated log, a JetStream stream: one subject, file storage, R3 on a cluster of three or
 * more servers. Created when missing; an existing stream is used as it is (an operator may have
 * given it limits).
 */
export async function ensureLogStream(
  jsm: JetStreamManager,
  names: LogNames,
  replicas: number,
): Promise<{ firstSeq: number; lastSeq: number; replicas: number }> {
  try {
    const info = await jsm.streams.info(names.stream);
    return {
      firstSeq: info.state.first_seq,
      lastSeq: info.state.last_seq,
      replicas: info.config.num_replicas,
    };
  } catch (err) {
    if (!/stream not found/i.test(String((err as Error).message))) throw err;
  }
  const info = await jsm.streams.add({
    name: names.stream,
    subjects: [names.subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
  return { firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, replicas: info.config.num_replicas };
}

/** The wire form of a device entry: what the applier needs, never the decoded copy. */
function deviceEntry(e: JournalEntry, node: string): DeviceLogEntry {
  const entry: DeviceLogEntry = {
    kind: 'device',
    at: e.receivedAt,
    deviceId: e.deviceId,
    homeId: e.homeId,
    type: e.type,
    payload: e.payload,
    node,
  };
  if (e.eventId !== undefined) entry.eventId = e.eventId;
  if (e.mqttMid !== undefined) entry.mqttMid = e.mqttMid;
  if (e.dup) entry.dup = true;
  return entry;
}

/**
 * Appends to the replicated log. Device events: the callback (and so the device's PUBACK) comes
 * when JetStream acknowledged the entry, that is once a quorum of the NATS cluster stored it; a
 * device event with an id carries it as the message id, so the stream drops a redelivery (to any
 * node) inside its duplicate window. Other entries (staff, timers, sessions) are appended the same
 * way and applied on every node when they come back (`StateMachine.copy`). Dead letters stay in
 * this node's journal: they are for inspection here, not state.
 */
export class NatsLog {
  readonly devices: DeviceEventLog;
  #lastFailureLog = 0;
  /** When the last append succeeded and failed (epoch ms, 0: never). */
  lastSuccessAt = 0;
  lastFailureAt = 0;
  #failuresSinceLog = 0;
  stats = { published: 0, duplicates: 0, failures: 0 };

  constructor(
    private readonly js: JetStreamClient,
    private readonly names: LogNames,
    readonly node: string,
    local: { deadLetter(dead: DeadLetter): Promise<AppendResult> },
    private readonly log: Logger,
    private readonly onFailure: () => void = () => {},
  ) {
    const self = this;
    this.devices = {
      appendThen(entry: JournalEntry, done: AppendDone): void {
        const msgID = entry.eventId !== undefined ? `${entry.deviceId}:${entry.eventId}` : undefined;
        self.#publish(JSON.stringify(deviceEntry(entry, node)), msgID, done);
      },
      append(entry: JournalEntry): Promise<AppendResult> {
        return promised((done) => this.appendThen(entry, done));
      },
      deadLetter: (dead) => local.deadLetter(dead),
    };
  }

  /** RemoteLog: append a submitted entry; resolves with its position. */
  append(entry: SubmittedEntry & { node: string }): Promise<number> {
    return promised<AppendResult>((done) => this.#publish(JSON.stringify(entry), undefined, done)).then(
      (r) => r.seq,
      (err: unknown) => {
        throw new HubError(
          ErrorCodes.CLUSTER_UNAVAILABLE,
          'the cluster log did not take the change; try again',
          {
            cause: err,
          },
        );
      },
    );
  }

  #publish(data: string, msgID: string | undefined, done: Done<AppendResult>): void {
    const opts =
      msgID === undefined ? { timeout: PUBLISH_TIMEOUT_MS } : { msgID, timeout: PUBLISH_TIMEOUT_MS };
    let p: Promise<{ seq: number; duplicate: boolean }>;
    try {
      p = this.js.publish(this.names.subject, data, opts);
    } catch (err) {
      this.#failed(err);
      queueMicrotask(() => done(err));
      return;
    }
    p.then(
      (ack) => {
        this.stats.published++;
        this.lastSuccessAt = Date.now();
        if (ack.duplicate) this.stats.duplicates++;
        done(null, { seq: ack.seq, duplicate: ack.duplicate });
      },
      (err: unknown) => {
        this.#failed(err);
        done(err);
      },
    );
  }

  /** Appends are failing now (no quorum reachable from here): nothing can be acknowledged. */
  failing(now = Date.now()): boolean {
    return this.lastFailureAt > this.lastSuccessAt && now - this.lastFailureAt < FAILING_MS;
  }

  #failed(err: unknown): void {
    this.stats.failures++;
    this.onFailure();
    this.#failuresSinceLog++;
    const now = Date.now();
    this.lastFailureAt = now;
    if (now - this.#lastFailureLog < FAILURE_LOG_MS) return;
    this.log.error(
      { err: (err as Error)?.message ?? String(err), failures: this.#failuresSinceLog },
      'appending to the replicated log failed: no acknowledgement (the sender retries)',
    );
    this.#lastFailureLog = now;
    this.#failuresSinceLog = 0;
  }
}
