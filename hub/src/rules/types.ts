import type { AlertKind, AlertRecord, Severity } from '../alerts/types.js';
import type { DeviceConfig, HomeConfig } from '../config/schema.js';
import type { DeviceEvent } from '../protocol/events.js';

export interface RuleContext {
  now: number;
  home: HomeConfig;
  device: DeviceConfig | undefined;
  /** The unresolved alert with this merge key, if any. */
  openAlert(mergeKey: string): AlertRecord | undefined;
}

export type Decision =
  /** Raise a new alert, or count another occurrence on the open one with the same merge key. */
  | { type: 'raise'; kind: AlertKind; severity: Severity; mergeKey: string; homeId: string; deviceId: string | null }
  /** Add a note (by message key) to the open alert with this merge key; optionally mark a resident cancel. */
  | { type: 'annotate'; mergeKey: string; noteKey: string; cancelledByResident?: boolean };

/** A rule is pure: an event, the home's state and the time in; decisions out. */
export interface Rule {
  readonly id: string;
  onEvent(event: DeviceEvent, ctx: RuleContext): Decision[];
}
