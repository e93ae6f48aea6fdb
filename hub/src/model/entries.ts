import type { Outcome } from './alert.js';
import type { DirectoryOp } from './directory.js';
import type { RhythmChange } from './home-rhythm.js';
import type { HomeMode } from './home-state.js';
import type { AttemptResult } from './notify.js';

/**
 * The entries of the hub's one ordered log: every change to the hub's state is one of these, and
 * the applier turns (state, entry) into the next state. Each carries its own time (`at`, epoch ms):
 * the applier never reads a clock. Alone the log is the SQLite journal; in a cluster, a
 * replicated stream (docs/architecture.md).
 */
export type LogEntry =
  | DeviceLogEntry
  | TimerLogEntry
  | StaffLogEntry
  | ModeLogEntry
  | RhythmLogEntry
  | AuditLogEntry
  | ClockLogEntry
  | StartLogEntry
  | DirectoryLogEntry
  | SessionLogEntry
  | DeliveryLogEntry
  | ContactAckLogEntry;

export type EntryKind = LogEntry['kind'];

/** A device event or status, as ingest decoded it (one row of the journal per event). */
export interface DeviceLogEntry {
  kind: 'device';
  at: number;
  deviceId: string;
  homeId: string;
  /** Normalised event type ('sos.pressed', 'status.offline', …). */
  type: string;
  eventId?: string | undefined;
  /** The normalised event as JSON. */
  payload: string;
  /** The hub node that received it (cluster); never part of what the applier writes. */
  node?: string | undefined;
  /** MQTT message id and DUP flag of a QoS 1 publish without an event id: a redelivery is recognised by them. */
  mqttMid?: number | undefined;
  dup?: boolean | undefined;
  /** `payload` already decoded, when the receiving node has it (saves a parse); never stored. */
  decoded?: Readonly<Record<string, unknown>> | undefined;
}

/** A stored timer fell due and was fired (by the one node that fires timers). */
export interface TimerLogEntry {
  kind: 'timer';
  at: number;
  key: string;
  /** The due time it was fired for: a timer moved or cancelled since is left alone. */
  dueAt: number;
  /** It fell due while the hub was down (or the leader was away) and fires late. */
  late: boolean;
}

export type StaffAction =
  | { type: 'ack'; alertId: string; version?: number | undefined }
  | {
      type: 'resolve';
      alertId: string;
      outcome: Outcome;
      note?: string | undefined;
      version?: number | undefined;
    }
  | { type: 'note'; alertId: string; text: string; version?: number | undefined }
  | { type: 'assign'; alertId: string; staffId: string; version?: number | undefined };

/** What a staff member did to an alert (API or feed). */
export interface StaffLogEntry {
  kind: 'staff';
  at: number;
  staffId: string;
  action: StaffAction;
}

/** A home's mode set by staff (away, maintenance, home); expiry is a timer entry. */
export interface ModeLogEntry {
  kind: 'mode';
  at: number;
  staffId: string;
  homeId: string;
  mode: HomeMode;
  until: number | null;
}

/** Staff changed what the hub uses of a home's learned rhythm: an override, its removal, or a fresh start. */
export interface RhythmLogEntry {
  kind: 'rhythm';
  at: number;
  staffId: string;
  homeId: string;
  change: RhythmChange;
}

/** A row for the audit trail that no other entry writes: reads of residents' data, logins, mutes. */
export interface AuditLogEntry {
  kind: 'audit';
  at: number;
  actor: string;
  action: string;
  target: string;
  data: Record<string, unknown>;
}

/** The drill clock was moved to `at` (only with `clock: manual`). */
export interface ClockLogEntry {
  kind: 'clock';
  at: number;
}

/**
 * A hub started on this log (single-node mode). Its standing timers are made sure of, and the
 * feed skips a block of numbers: entries reach the feed before their commit is on disk, so after
 * a power cut the numbers a console saw last may be issued again for other entries.
 */
export interface StartLogEntry {
  kind: 'start';
  at: number;
}

/**
 * A change of the site directory (homes, residents, contacts, devices, staff, grids), made by an
 * admin through the API or the console, by an import, or by seeding from the configuration file.
 * Its ops are applied together or not at all (core/directory-applier.ts). It carries everything
 * they need: a device's secret only as its hash, never the secret.
 */
export interface DirectoryLogEntry {
  kind: 'directory';
  at: number;
  /** Staff id of the admin, `config` for the seed from the configuration file, `cli` for `carehub import`. */
  actor: string;
  /** The first entry of the seed: the directory starts from nothing (done once per data dir). */
  seed?: boolean;
  /**
   * The home every op is about, when there is one: its log row is then the home's, and erasing the
   * home erases it (its residents' names and contacts) with the home's device events.
   */
  homeId?: string;
  ops: DirectoryOp[];
}

/**
 * Entries other than device events submitted by a hub node carry its name (cluster), so that node
 * finds the answer to what it submitted; the applier never writes it.
 */
export type Submitted<E extends LogEntry = LogEntry> = E & { node?: string | undefined };

/**
 * A staff session opened (login) or ended (logout, or all of one staff member's). Only the hash of
 * the token is in the log, as in the sessions table. Sessions are state like any other, so a
 * console that loses its node carries on with another, and a logout anywhere ends the session's
 * feeds everywhere.
 */
export type SessionLogEntry =
  | { kind: 'session'; at: number; op: 'open'; tokenHash: string; staffId: string; expiresAt: number }
  | { kind: 'session'; at: number; op: 'close'; tokenHash: string }
  | { kind: 'session'; at: number; op: 'close-staff'; staffId: string };

/** An entry with its place in the log: positions rise by at least one, in log order. */
export interface Positioned<E extends LogEntry = LogEntry> {
  position: number;
  entry: E;
}

/**
 * An attempt at one notification outbox row and its result, as the node that sends notifications
 * recorded it (docs/notifications.md). `retryAt` (hub time, with the sender's jitter) is when a
 * `retry` may be tried again.
 */
export interface DeliveryLogEntry {
  kind: 'delivery';
  at: number;
  rowId: string;
  attempt: number;
  result: AttemptResult;
  /** What the channel answered, short, without secrets ("250 OK", "HTTP 500", "errcode 45009"). */
  detail: string;
  retryAt?: number | undefined;
}

/** A contact confirmed "I am going" through the link in a message: the ladder stops for the alert. */
export interface ContactAckLogEntry {
  kind: 'contact-ack';
  at: number;
  alertId: string;
  /** The contact's index in the home's contacts (bound into the link's token). */
  contact: number;
}
