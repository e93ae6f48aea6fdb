/**
 * History queries (alerts over time, a device's events, response times) with one answer shape for
 * every store: history-sqlite.ts reads the hub's own tables, history-influx.ts the shipped points.
 */
export interface TimeRange {
  /** Inclusive, epoch ms. */
  fromMs: number;
  /** Exclusive, epoch ms. */
  toMs: number;
}

export interface AlertCountBucket {
  /** Bucket start: fromMs + k × bucketMs. */
  startMs: number;
  kind: string;
  count: number;
}

export interface DeviceEventRecord {
  atMs: number;
  type: string;
  battery?: number;
  rssi?: number;
  batteryLow?: boolean;
}

export interface ResponseTimeStats {
  alerts: number;
  acknowledged: number;
  resolved: number;
  ackWithin60s: number;
  ackWithin180s: number;
  /** Share of alerts acknowledged within 60 s / 180 s (null without alerts). TSA targets: 97.5 % / 99 %. */
  shareWithin60s: number | null;
  shareWithin180s: number | null;
  ackP50: number | null;
  ackP90: number | null;
  ackP95: number | null;
  resolveP50: number | null;
  resolveP90: number | null;
}

export interface ResponseTimes {
  overall: ResponseTimeStats;
  byKind: Record<string, ResponseTimeStats>;
}

export interface HistoryQuery {
  readonly source: 'sqlite' | 'influxdb1' | 'influxdb2';
  /** Alerts raised in the range, counted per bucket and kind (only non-zero buckets). */
  alertsOverTime(
    q: TimeRange & { bucketMs: number; homeIds?: readonly string[]; kind?: string },
  ): Promise<AlertCountBucket[]>;
  /** A device's accepted messages in the range, newest first. */
  deviceEvents(deviceId: string, q: TimeRange & { limit: number }): Promise<DeviceEventRecord[]>;
  /** For alerts raised in the range: time to acknowledge and to resolve (whenever that happened). */
  responseTimes(q: TimeRange & { homeIds?: readonly string[] }): Promise<ResponseTimes>;
}

export interface ResponseSample {
  kind: string;
  ackSeconds: number | null;
  resolveSeconds: number | null;
}

/** Nearest-rank percentile (no interpolation): always a value that occurred. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}

function stats(samples: readonly ResponseSample[]): ResponseTimeStats {
  const acks = samples.flatMap((s) => (s.ackSeconds === null ? [] : [s.ackSeconds])).sort((a, b) => a - b);
  const resolves = samples
    .flatMap((s) => (s.resolveSeconds === null ? [] : [s.resolveSeconds]))
    .sort((a, b) => a - b);
  const within60 = acks.filter((s) => s <= 60).length;
  const within180 = acks.filter((s) => s <= 180).length;
  const n = samples.length;
  return {
    alerts: n,
    acknowledged: acks.length,
    resolved: resolves.length,
    ackWithin60s: within60,
    ackWithin180s: within180,
    shareWithin60s: n === 0 ? null : within60 / n,
    shareWithin180s: n === 0 ? null : within180 / n,
    ackP50: percentile(acks, 50),
    ackP90: percentile(acks, 90),
    ackP95: percentile(acks, 95),
    resolveP50: percentile(resolves, 50),
    resolveP90: percentile(resolves, 90),
  };
}

export function summarize(samples: readonly ResponseSample[]): ResponseTimes {
  const kinds = [...new Set(samples.map((s) => s.kind))].sort();
  return {
    overall: stats(samples),
    byKind: Object.fromEntries(kinds.map((k) => [k, stats(samples.filter((s) => s.kind === k))])),
  };
}

/** Count raise times per (bucket, kind), sorted by bucket then kind. */
export function bucketize(
  raises: ReadonlyArray<{ atMs: number; kind: string }>,
  fromMs: number,
  bucketMs: number,
): AlertCountBucket[] {
  if (!(bucketMs > 0)) throw new RangeError('bucketMs must be positive');
  const counts = new Map<string, AlertCountBucket>();
  for (const r of raises) {
    const startMs = fromMs + Math.floor((r.atMs - fromMs) / bucketMs) * bucketMs;
    const key = `${startMs}\u0000${r.kind}`;
    const b = counts.get(key);
    if (b) b.count++;
    else counts.set(key, { startMs, kind: r.kind, count: 1 });
  }
  return [...counts.values()].sort((a, b) => a.startMs - b.startMs || a.kind.localeCompare(b.kind));
}
