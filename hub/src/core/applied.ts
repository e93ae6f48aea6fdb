import type { AlertChange, EntryContext } from '../alerts/alert-service.js';
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
  /** Messages to devices the rules asked for (a check-in request), besides alert changes' own. */
  commands: DeviceCommand[];
}

/** One hub → device message (PROTOCOL.md §1), sent after the commit. */
export interface DeviceCommand {
  deviceId: string;
  message: Readonly<Record<string, unknown>>;
}

export function emptyApplied(): Applied {
  return { alertChanges: [], feed: [], commands: [] };
}
