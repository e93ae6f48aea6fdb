/** Wire shapes of PROTOCOL.md §2–§3 as the console reads them. Unknown kinds stay strings. */

export type Severity = 'critical' | 'high' | 'medium' | 'low';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export const OUTCOMES = ['genuine', 'false_alarm', 'accidental', 'test', 'technical'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface AlertNote {
  at: string;
  by: string;
  text: string;
  /** Notes written by the hub carry their text in every language it has. */
  texts?: Record<string, string>;
}

export interface Alert {
  id: string;
  version: number;
  kind: string;
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
  /** Alerts of one home within 10 minutes share an incident (may be absent on older hubs). */
  incidentId?: string | null;
  /** Staff id the alert is assigned to (may be absent on older hubs). */
  assignedTo?: string | null;
}

export type Role = 'duty' | 'supervisor' | 'admin';

export interface Staff {
  id: string;
  name: string;
  role: Role;
  grids: string[];
  locale: string | null;
}

export interface Session {
  staff: Staff;
  /** The site's default language, when the hub tells it. */
  siteLocale: string | null;
}

export type HomeModeName = 'home' | 'away' | 'maintenance';
export interface HomeMode {
  mode: HomeModeName;
  until: string | null;
}

export interface Resident {
  id: string;
  name: string;
  age: number | null;
  language: string | null;
  wanderingRisk: boolean;
  birthYear?: number | null;
  notes?: string | null;
  /** The resident's own phone (home detail only; hubs before site administration leave it out). */
  phone?: string | null;
}

export interface Device {
  id: string;
  kind: string;
  label: string | null;
  online: boolean | null;
  battery: number | null;
  batteryLow: boolean | null;
  lastSeen: string | null;
}

export type ContactRelation = 'family' | 'grid_worker' | 'neighbour' | 'doctor' | 'other';
export type NotifyChannel = 'email' | 'webhook' | 'sms' | 'wecom' | 'dingtalk';
export interface Contact {
  name: string;
  relation: ContactRelation;
  phone: string | null;
  notes?: string | null;
  email?: string | null;
  /** The channels the hub notifies this contact on (PROTOCOL.md §6). */
  notify?: NotifyChannel[];
}

/** GET /api/v1/alerts/:id/notifications (docs/api.md). */
export interface NotifyContactRef {
  index: number;
  name: string;
  relation: ContactRelation | null;
}
export interface Delivery {
  id: string;
  step: number;
  contact: NotifyContactRef;
  channel: NotifyChannel;
  status: 'pending' | 'sent' | 'failed' | 'cancelled';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  nextAt: string | null;
}
export interface DeliveryAttempt {
  delivery: string;
  attempt: number;
  at: string;
  result: 'sent' | 'retry' | 'failed';
  detail: string;
}
export interface AlertNotifications {
  deliveries: Delivery[];
  attempts: DeliveryAttempt[];
  going: Array<{ contact: NotifyContactRef; at: string }>;
}
export interface TestSendResult {
  ok: boolean;
  outcome: string;
  detail: string;
}

export interface Home {
  id: string;
  address: string;
  grid: string;
  timezone: string;
  mode: HomeMode;
  residents: Resident[];
  devices: Device[];
  openAlerts?: number;
  contacts?: Contact[];
  checkins?: HomeCheckins;
  rhythm?: HomeRhythm;
}

/** A home's check-in requests on some days, by how they ended (docs/api.md, GET /api/v1/homes). */
export interface CheckinCounts {
  sent: number;
  daily: number;
  answered: number;
  activity: number;
  missed: number;
  capped: number;
}

export interface RecentCheckin {
  requestId: string;
  at: string;
  reason: 'quiet' | 'morning' | 'daily';
  outcome: 'answered' | 'activity' | 'missed' | 'withdrawn';
  outcomeAt: string;
}

export interface HomeCheckins {
  today: CheckinCounts;
  last30Days: CheckinCounts;
  pending: { requestId: string; at: string; answerBy: string; reason: string } | null;
  /** GET /api/v1/homes/{id} only. */
  recent?: RecentCheckin[];
}

export interface HomeRhythm {
  status: 'learning' | 'learned' | 'override' | 'off';
  daysSeen: number;
  learnDays: number;
  maxHours: number;
  waitMinutes: number;
  dailyAt: string | null;
  canAsk: boolean;
  override: { askAfterHours: number; by: string; at: string } | null;
  /** [weekday 0 = Sunday][local hour] → minutes of quiet before the hub asks (GET /api/v1/homes/{id} only). */
  askAfterMinutes?: number[][];
  usualMinutes?: Array<Array<number | null>>;
}

export interface CheckinReport {
  from: string;
  to: string;
  homes: Array<CheckinCounts & { homeId: string; address: string; grid: string; answerRate: number | null }>;
  total: CheckinCounts;
}

export interface DeviceEvent {
  seq: number;
  at: string;
  type: string;
  battery?: number;
  rssi?: number;
}

export interface StaffSummary {
  id: string;
  name: string;
  role: Role;
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
}

export interface ResponseStats {
  count: number;
  ack: Percentiles;
  resolve: Percentiles;
  ackWithin60s: number | null;
  ackWithin180s: number | null;
}

export interface ResponseTimesReport {
  from: string;
  to: string;
  overall: ResponseStats;
  byKind: Record<string, ResponseStats>;
  byStaff: Record<string, ResponseStats & { name: string }>;
  byShift: Record<string, ResponseStats>;
  ackHistogram: Array<{ upToSeconds: number | null; count: number }>;
}

export interface HubErrorBody {
  code: string;
  message: string;
}

/** A device change on the feed. */
export interface DeviceChange {
  id: string;
  homeId: string;
  online: boolean | null;
  battery: number | null;
  lastSeen: string | null;
}

/** A mode change on the feed: the hub sends `mode` as a name with `until` beside it (or as an object). */
export interface HomeModeChange {
  id: string;
  mode: HomeModeName | HomeMode;
  until?: string | null;
  by?: string;
}

export type FeedMessage =
  | { type: 'hello'; seq: number; staff: { id: string; name: string; role: Role }; serverTime: string }
  | { type: 'snapshot'; seq: number; alerts: Alert[] }
  | { type: 'alert'; seq: number; alert: Alert }
  | { type: 'device'; seq: number; device: DeviceChange }
  | { type: 'home'; seq: number; home: HomeModeChange }
  | { type: 'result'; requestId?: string; ok: boolean; error?: HubErrorBody };
