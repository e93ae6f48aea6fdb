import type { StaffConfig } from '../config/schema.js';
import type { AlertRecord } from '../model/alert.js';
import type { FeedEntry } from '../model/feed-entry.js';

/** Why an alert changed: the lifecycle's vocabulary (escalation plans and device commands follow it). */
export type ChangeCause =
  | 'raised'
  | 'repeated'
  | 'annotated'
  | 'acknowledged'
  | 'resolved'
  | 'noted'
  | 'assigned'
  | 'escalated'
  | 'reminder';

export interface AlertChange {
  record: AlertRecord;
  cause: ChangeCause;
  feed: FeedEntry;
  staff?: StaffConfig;
  /** The device whose event caused this change (raise or repeat). */
  sourceDeviceId?: string;
  /** This change is the alert's first acknowledgement (an ack, or a resolve of an open alert). */
  firstAck?: boolean;
}

/**
 * The log entry being applied: its place and time. Alert ids come from it, so applying the same
 * log gives the same ids on every node and in every replay.
 */
export interface EntryContext {
  readonly position: number;
  readonly at: number;
  readonly late: boolean;
  /** Alerts this entry raised so far (in this attempt to apply it): numbers the ids. */
  raised: number;
}
