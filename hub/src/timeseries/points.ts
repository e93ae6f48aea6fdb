import type { FeedRowLike, JournalRowLike } from '../model/outbox-rows.js';
import type { FieldValue, TsPoint } from './types.js';

/**
 * Rows → points. Pure and deterministic: the same row always gives the same point (same series,
 * same timestamp), so shipping a row twice overwrites instead of duplicating.
 *
 * Timestamp = row time in ms × 10⁶ ns + (seq mod 10⁶) ns. The offset keeps two rows of one series
 * that share a millisecond (two device_offline alerts of one home from one timer tick, a burst of
 * Zigbee events) as two points; readers at ms precision see the row time unchanged.
 */
export function rowTimeNs(ms: number, seq: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n + BigInt(seq % 1_000_000)).toString();
}

/** Device kind (sos_button, door_sensor, …) by device id; 'unknown' for devices no longer configured. */
export type KindOf = (deviceId: string) => string | undefined;

const tagValue = (v: unknown): string => (typeof v === 'string' && v.length > 0 ? v : 'unknown');
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A journal row (an accepted device message) → `device_event`. Never tagged with an alert kind. */
export function journalPoint(row: JournalRowLike, kindOf: KindOf): TsPoint | undefined {
  // Entries other than device events (staff actions, timers, …) have no device: not shipped here
  // (their effects reach InfluxDB through the feed log).
  if (row.device_id === '') return undefined;
  const payload = parseObject(row.payload);
  if (!payload) return undefined;
  const fields: Record<string, FieldValue> = { value: 1, seq: row.seq };
  if (finite(payload.battery)) fields.battery = payload.battery;
  if (finite(payload.rssi)) fields.rssi = payload.rssi;
  if (typeof payload.batteryLow === 'boolean') fields.battery_low = payload.batteryLow;
  return {
    measurement: 'device_event',
    tags: {
      home: tagValue(row.home_id),
      device: tagValue(row.device_id),
      kind: tagValue(kindOf(row.device_id)),
      type: tagValue(row.type),
    },
    fields,
    timeNs: rowTimeNs(row.received_at, row.seq),
  };
}

interface AlertBody {
  id?: unknown;
  version?: unknown;
  kind?: unknown;
  severity?: unknown;
  status?: unknown;
  deviceId?: unknown;
  raisedAt?: unknown;
  updatedAt?: unknown;
  acknowledgedAt?: unknown;
  resolvedAt?: unknown;
  outcome?: unknown;
  occurrences?: unknown;
  escalationLevel?: unknown;
  cancelledByResident?: unknown;
}

const ms = (iso: unknown): number | undefined => {
  if (typeof iso !== 'string') return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
};

/**
 * A feed_log row → `alert` (alert transitions) or `device_status` (device changes).
 * seconds_to_ack / seconds_to_resolve are set only on the transition where the ack / resolve
 * happened, so each alert contributes each figure exactly once to percentiles and counts.
 */
export function feedPoint(row: FeedRowLike, kindOf: KindOf): TsPoint | undefined {
  const body = parseObject(row.data);
  if (!body) return undefined;
  const timeNs = rowTimeNs(row.at, row.seq);
  if (body.type === 'alert' && body.alert && typeof body.alert === 'object') {
    const a = body.alert as AlertBody;
    if (typeof a.id !== 'string') return undefined;
    const version = finite(a.version) ? a.version : 0;
    const fields: Record<string, FieldValue> = {
      alert_id: a.id,
      version,
      raised: version === 1 ? 1 : 0,
      open_delta: version === 1 ? 1 : 0,
      occurrences: finite(a.occurrences) ? a.occurrences : 1,
      escalation_level: finite(a.escalationLevel) ? a.escalationLevel : 0,
      cancelled_by_resident: a.cancelledByResident === true,
    };
    if (typeof a.deviceId === 'string') fields.device = a.deviceId;
    if (typeof a.outcome === 'string') fields.outcome = a.outcome;
    const raised = ms(a.raisedAt);
    const updated = ms(a.updatedAt);
    const acked = ms(a.acknowledgedAt);
    const resolved = ms(a.resolvedAt);
    if (raised !== undefined && acked !== undefined && updated === acked) {
      const s = Math.max(0, (acked - raised) / 1000);
      fields.seconds_to_ack = s;
      fields.ack_within_60s = s <= 60 ? 1 : 0;
      fields.ack_within_180s = s <= 180 ? 1 : 0;
    }
    if (raised !== undefined && resolved !== undefined && updated === resolved && a.status === 'resolved') {
      fields.seconds_to_resolve = Math.max(0, (resolved - raised) / 1000);
      fields.open_delta = version === 1 ? 0 : -1;
    }
    return {
      measurement: 'alert',
      tags: {
        home: tagValue(row.home_id),
        kind: tagValue(a.kind),
        severity: tagValue(a.severity),
        status: tagValue(a.status),
      },
      fields,
      timeNs,
    };
  }
  if (body.type === 'device' && body.device && typeof body.device === 'object') {
    const d = body.device as { id?: unknown; online?: unknown; battery?: unknown };
    if (typeof d.id !== 'string') return undefined;
    const fields: Record<string, FieldValue> = {};
    if (typeof d.online === 'boolean') fields.online = d.online ? 1 : 0;
    if (finite(d.battery)) fields.battery = d.battery;
    if (Object.keys(fields).length === 0) return undefined;
    return {
      measurement: 'device_status',
      tags: { home: tagValue(row.home_id), device: d.id, kind: tagValue(kindOf(d.id)) },
      fields,
      timeNs,
    };
  }
  return undefined;
}

export interface HubFigures {
  atMs: number;
  site: string;
  connectedDevices: number;
  ingestRate: number;
  backlogRows: number;
  journalLagRows: number;
}

export function metricsPoint(f: HubFigures): TsPoint {
  return {
    measurement: 'hub_metrics',
    tags: { site: tagValue(f.site) },
    fields: {
      connected_devices: Math.round(f.connectedDevices),
      ingest_rate: f.ingestRate,
      backlog_rows: Math.round(f.backlogRows),
      journal_lag_rows: Math.round(f.journalLagRows),
    },
    timeNs: rowTimeNs(f.atMs, 0),
  };
}

/** Home ids a batch of points touches (dead letters remember them so a resident purge finds them). */
export function homesOf(points: readonly TsPoint[]): string[] {
  return [...new Set(points.map((p) => p.tags.home).filter((h): h is string => h !== undefined))];
}
