import type { AlertKind, Severity } from './alert.js';

/** What a rule decides; the alert lifecycle carries it out (raise, merge, annotate). */
export interface Note {
  key: string;
  params?: Record<string, string>;
}

/** A note with its own time, for what led up to an alert (a check-in request before a silence). */
export interface TimedNote {
  at: number;
  note: Note;
}

/** A decision about an alert: carried out by the alert lifecycle. */
export type AlertDecision =
  /** Raise a new alert, or count another occurrence on the open one with the same merge key. */
  | {
      type: 'raise';
      kind: AlertKind;
      severity: Severity;
      mergeKey: string;
      homeId: string;
      deviceId: string | null;
      note?: Note;
      /** Notes before the raise's own, each at its time (only on a new alert; a merge ignores them). */
      timeline?: TimedNote[];
    }
  /** Add a note to the open alert with this merge key, if there is one; optionally mark a resident cancel. */
  | { type: 'annotate'; mergeKey: string; note: Note; cancelledByResident?: boolean };

/**
 * A message to devices of a home (PROTOCOL.md §1 hub → device commands), sent by the effects after
 * the commit, by the one node that does external effects. The message names what it is about (a
 * request id), so a repeat is harmless to the device.
 */
export interface CommandDecision {
  type: 'command';
  homeId: string;
  deviceIds: readonly string[];
  message: Readonly<Record<string, unknown>>;
}

export type Decision = AlertDecision | CommandDecision;
