import type { AlertChange, EntryContext } from '../alerts/alert-change.js';
import type { FeedEntry } from '../model/feed-entry.js';

/** The entry being applied: its position and time, and what it raised so far. */
export type EntryWork = EntryContext;

/**
 * What applying entries changed, collected inside the unit of work and handed to the effects
 * after the commit (the feed, device commands, metrics). Dropped when the work rolls back.
 */
export interface Applied {
  alertChanges: AlertChange[];
  /** Feed entries other than alert changes' own (devices, home modes). */
  feed: FeedEntry[];
  /** Notification outbox rows were added: the sender looks for due rows. */
  notify: boolean;
}

export function emptyApplied(): Applied {
  return { alertChanges: [], feed: [], notify: false };
}
