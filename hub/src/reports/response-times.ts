import type { AlertRecord } from '../model/alert.js';
import type { Directory } from '../site/directory.js';
import { inLocalWindow } from '../time/local.js';

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
}

export interface ResponseStats {
  count: number;
  acknowledged: number;
  ack: Percentiles;
  resolve: Percentiles;
  /** Share of all alerts (0..1) acknowledged within 60 s / 180 s: the TSA answer targets are 97.5 % and 99 %. */
  ackWithin60s: number | null;
  ackWithin180s: number | null;
}

export interface Shift {
  name: string;
  start: string;
  end: string;
}

export const DEFAULT_SHIFTS: Shift[] = [
  { name: 'day', start: '08:00', end: '20:00' },
  { name: 'night', start: '20:00', end: '08:00' },
];

const HISTOGRAM_BOUNDS = [10, 30, 60, 120, 180, 300, 600];

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function stats(records: readonly AlertRecord[]): ResponseStats {
  const ack = records
    .filter((r) => r.acknowledgedAtMs !== null)
    .map((r) => ((r.acknowledgedAtMs ?? 0) - r.raisedAtMs) / 1000)
    .sort((a, b) => a - b);
  const resolve = records
    .filter((r) => r.resolvedAtMs !== null)
    .map((r) => ((r.resolvedAtMs ?? 0) - r.raisedAtMs) / 1000)
    .sort((a, b) => a - b);
  const n = records.length;
  const pct = (v: number[]): Percentiles => ({
    p50: percentile(v, 50),
    p90: percentile(v, 90),
    p95: percentile(v, 95),
  });
  return {
    count: n,
    acknowledged: ack.length,
    ack: pct(ack),
    resolve: pct(resolve),
    ackWithin60s: n === 0 ? null : ack.filter((s) => s <= 60).length / n,
    ackWithin180s: n === 0 ? null : ack.filter((s) => s <= 180).length / n,
  };
}

function groupBy(
  records: readonly AlertRecord[],
  key: (r: AlertRecord) => string | null,
): Map<string, AlertRecord[]> {
  const out = new Map<string, AlertRecord[]>();
  for (const r of records) {
    const k = key(r);
    if (k === null) continue;
    const list = out.get(k) ?? [];
    list.push(r);
    out.set(k, list);
  }
  return out;
}

/**
 * Time to acknowledge and to resolve, per kind, per staff member (who acknowledged) and per shift
 * (by the local time the alert was raised). Drill alerts and alerts resolved as tests are excluded.
 */
export function responseTimeReport(
  all: readonly AlertRecord[],
  directory: Directory,
  shifts: readonly Shift[] = DEFAULT_SHIFTS,
) {
  const records = all.filter((r) => !r.drill && r.alert.outcome !== 'test');
  const byKind: Record<string, ResponseStats> = {};
  for (const [k, list] of groupBy(records, (r) => r.alert.kind)) byKind[k] = stats(list);
  const byStaff: Record<string, ResponseStats & { name: string }> = {};
  for (const [k, list] of groupBy(records, (r) => r.alert.acknowledgedBy))
    byStaff[k] = { ...stats(list), name: directory.staff(k)?.name ?? k };
  const byShift: Record<string, ResponseStats> = {};
  for (const shift of shifts) {
    byShift[shift.name] = stats(
      records.filter((r) =>
        inLocalWindow(r.raisedAtMs, directory.timezoneOf(r.alert.homeId), shift.start, shift.end),
      ),
    );
  }
  const ackSeconds = records
    .filter((r) => r.acknowledgedAtMs !== null)
    .map((r) => ((r.acknowledgedAtMs ?? 0) - r.raisedAtMs) / 1000);
  const ackHistogram: Array<{ upToSeconds: number | null; count: number }> = [];
  let lower = Number.NEGATIVE_INFINITY;
  for (const bound of [...HISTOGRAM_BOUNDS, null]) {
    const upper = bound ?? Number.POSITIVE_INFINITY;
    ackHistogram.push({
      upToSeconds: bound,
      count: ackSeconds.filter((s) => s > lower && s <= upper).length,
    });
    lower = upper;
  }
  return {
    overall: stats(records),
    byKind,
    byStaff,
    byShift,
    ackHistogram,
    excluded: all.length - records.length,
  };
}
