import type { AlertChange, EntryContext } from '../alerts/alert-service.js';
import type { FeedEntry } from '../model/feed-entry.js';

/** The entry being applied: its position and time, and what it raised so far. */
export type EntryWork = EntryContext;

/** What a directory change means outside the state, once committed. */
export type DirectoryEffect =
  /** Retired, rotated, moved to another kind, or its home removed: its connection closes, its old secret no longer works. */
  | { type: 'device.revoked'; deviceId: string }
  /** Removed, or their password changed: their sessions end and their feeds close. */
  | { type: 'staff.ended'; staffId: string }
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
  directory: DirectoryEffect[];
}

export function emptyApplied(): Applied {
  return { alertChanges: [], feed: [], directory: [] };
}
