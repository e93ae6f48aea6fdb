export const ALERT_KINDS = [
  'sos',
  'smoke',
  'night_exit',
  'door_left_open',
  'inactivity',
  'device_offline',
  'battery_low',
  'tamper',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export const OUTCOMES = ['genuine', 'false_alarm', 'accidental', 'test', 'technical'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface AlertNote {
  at: string;
  /** Staff id, or 'system' for notes the hub writes. */
  by: string;
  text: string;
  /** System notes only: the text in every language the hub has, keyed by locale. */
  texts?: Record<string, string>;
}

/** PROTOCOL.md §2 alert object. Times are ISO 8601 with the home's offset. */
export interface Alert {
  id: string;
  version: number;
  kind: AlertKind;
  severity: Severity;
  status: AlertStatus;
  homeId: string;
  residentIds: string[];
  deviceId: string | null;
  raisedAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  outcome: Outcome | null;
  occurrences: number;
  escalationLevel: number;
  cancelledByResident: boolean;
  title: Record<string, string>;
  notes: AlertNote[];
  /** Alerts of one home raised close together share an incident: handle a fire + SOS + door as one situation. */
  incidentId: string;
  assignedTo: string | null;
  /** The condition fell due while the hub was down and was raised late, at start. */
  late: boolean;
}

/** What the hub keeps beside the wire object: epoch ms for arithmetic, the merge key. */
export interface AlertRecord {
  alert: Alert;
  mergeKey: string;
  raisedAtMs: number;
  updatedAtMs: number;
  acknowledgedAtMs: number | null;
  resolvedAtMs: number | null;
  /** Every device that triggered this alert: all of them hear "acknowledged" and "resolved". */
  notifyDeviceIds?: string[];
  /** Raised on the drill clock: kept out of response-time reports. */
  drill?: boolean;
}

export const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
