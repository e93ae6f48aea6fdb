import type { AlertKind, Severity } from './alert.js';

/** What a rule decides; the alert lifecycle carries it out (raise, merge, annotate). */
export interface Note {
  key: string;
  params?: Record<string, string>;
}

export type Decision =
  /** Raise a new alert, or count another occurrence on the open one with the same merge key. */
  | {
      type: 'raise';
      kind: AlertKind;
      severity: Severity;
      mergeKey: string;
      homeId: string;
      deviceId: string | null;
      note?: Note;
    }
  /** Add a note to the open alert with this merge key, if there is one; optionally mark a resident cancel. */
  | { type: 'annotate'; mergeKey: string; note: Note; cancelledByResident?: boolean };
