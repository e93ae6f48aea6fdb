import {
  type AlertCountBucket,
  bucketize,
  type DeviceEventRecord,
  type HistoryQuery,
  type ResponseSample,
  type ResponseTimes,
  summarize,
  type TimeRange,
} from '../model/history.js';
import type { SelectRow, TimeSeriesBackend } from './types.js';

/** Upper bound for "whenever it was acknowledged": far beyond any real alert, inside InfluxDB's time range. */
const LATEST_MS = Date.UTC(2200, 0, 1);

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** History from the shipped points (any backend: InfluxQL on 1.x, Flux on 2.x). */
export class InfluxHistory implements HistoryQuery {
  readonly source;

  constructor(private readonly backend: TimeSeriesBackend) {
    this.source = backend.kind;
  }

  async alertsOverTime(
    q: TimeRange & { bucketMs: number; homeIds?: readonly string[]; kind?: string },
  ): Promise<AlertCountBucket[]> {
    const raises = (await this.#alertPoints(q.fromMs, q.toMs, q.homeIds, q.kind)).filter(
      (r) => r.fields.raised === 1,
    );
    return bucketize(
      raises.map((r) => ({ atMs: r.timeMs, kind: r.tags.kind ?? 'unknown' })),
      q.fromMs,
      q.bucketMs,
    );
  }

  async deviceEvents(deviceId: string, q: TimeRange & { limit: number }): Promise<DeviceEventRecord[]> {
    const rows = await this.backend.select({
      measurement: 'device_event',
      fromMs: q.fromMs,
      toMs: q.toMs,
      tags: { device: deviceId },
      order: 'desc',
      limit: Math.max(1, Math.trunc(q.limit)),
    });
    return rows.map((r) => {
      const out: DeviceEventRecord = { atMs: r.timeMs, type: r.tags.type ?? 'unknown' };
      const battery = num(r.fields.battery);
      const rssi = num(r.fields.rssi);
      if (battery !== undefined) out.battery = battery;
      if (rssi !== undefined) out.rssi = rssi;
      if (typeof r.fields.battery_low === 'boolean') out.batteryLow = r.fields.battery_low;
      return out;
    });
  }

  async responseTimes(q: TimeRange & { homeIds?: readonly string[] }): Promise<ResponseTimes> {
    const points = await this.#alertPoints(q.fromMs, LATEST_MS, q.homeIds, undefined);
    const byId = new Map<string, ResponseSample>();
    for (const p of points) {
      const id = p.fields.alert_id;
      if (typeof id !== 'string') continue;
      if (p.fields.raised === 1 && p.timeMs < q.toMs)
        byId.set(id, { kind: p.tags.kind ?? 'unknown', ackSeconds: null, resolveSeconds: null });
    }
    for (const p of points) {
      const sample = typeof p.fields.alert_id === 'string' ? byId.get(p.fields.alert_id) : undefined;
      if (!sample) continue;
      const ack = num(p.fields.seconds_to_ack);
      const res = num(p.fields.seconds_to_resolve);
      if (ack !== undefined) sample.ackSeconds = ack;
      if (res !== undefined) sample.resolveSeconds = res;
    }
    return summarize([...byId.values()]);
  }

  #alertPoints(
    fromMs: number,
    toMs: number,
    homeIds: readonly string[] | undefined,
    kind: string | undefined,
  ): Promise<SelectRow[]> {
    const tags: Record<string, string | readonly string[]> = {};
    if (homeIds !== undefined) tags.home = homeIds;
    if (kind !== undefined) tags.kind = kind;
    return this.backend.select({ measurement: 'alert', fromMs, toMs, tags, order: 'asc' });
  }
}
