import type { AlertChange, EntryContext } from '../alerts/alert-change.js';
import type { FeedEntry } from '../model/feed-entry.js';

/** The entry being applied: its position and time, and what it raised so far. */
export type EntryWork = EntryContext;

/** What a directory change means outside the state, once committed. */
export type DirectoryEffect =
  /** Retired, rotated, moved to another kind, or its home removed: its connection closes, its old secret no longer works. */
  | { type: 'device.revoked'; deviceId: string }
  /** Role or grids changed: their feeds follow the new scope. */
  | { type: 'staff.rescoped'; staffId: string }
  /** A home's log rows are queued for erasure (jobs/erasure-job.ts). */
  | { type: 'home.erased'; homeId: string };

/**
 * What applying entries changed, collected inside the unit of work and handed to the effects
 * after the commit (the feed, device commands, metrics). Dropped when the work rolls back.
 */
export interface Applied {
  alertChanges: AlertChange[];
  /** Feed entries other than alert changes' own (devices, home modes). */
  feed: FeedEntry[];
  /** Messages to devices the rules asked for (a check-in request), besides alert changes' own. */
  commands: DeviceCommand[];
  directory: DirectoryEffect[];
  /** Sessions that ended (logout, staff removed or their password changed): their feeds close, on every node. */
  sessionsEnded: SessionsEnded[];
  /** Notification outbox rows were added: the sender looks for due rows. */
  notify: boolean;
}

/** One hub → device message (PROTOCOL.md §1), sent after the commit. */
export interface DeviceCommand {
  deviceId: string;
  message: Readonly<Record<string, unknown>>;
}

/** Sessions that have just ended: one by its token's hash, or all of one staff member. */
export type SessionsEnded =
  | { sessionId: string; reason: 'logout' }
  | { staffId: string; reason: 'staff_removed' };

export function emptyApplied(): Applied {
  return { alertChanges: [], feed: [], commands: [], directory: [], sessionsEnded: [], notify: false };
}

/** Add what one entry changed to what a batch changed. */
export function mergeApplied(into: Applied, from: Applied): void {
  for (const c of from.alertChanges) into.alertChanges.push(c);
  for (const f of from.feed) into.feed.push(f);
  for (const c of from.commands) into.commands.push(c);
  for (const d of from.directory) into.directory.push(d);
  for (const e of from.sessionsEnded) into.sessionsEnded.push(e);
  if (from.notify) into.notify = true;
}
