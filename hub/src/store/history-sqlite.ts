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
import type { Db } from './sqlite-db.js';

interface AlertRow {
  kind: string;
  raised_at: number;
  data: string;
}

const homeFilter = (homeIds: readonly string[] | undefined): { sql: string; args: string[] } =>
  homeIds === undefined
    ? { sql: '', args: [] }
    : { sql: ` AND home_id IN (${homeIds.map(() => '?').join(',') || "''"})`, args: [...homeIds] };

/** History from the hub's own SQLite tables (alerts, journal): the embedded default. */
export class SqliteHistory implements HistoryQuery {
  readonly source = 'sqlite' as const;

  constructor(private readonly db: Db) {}

  async alertsOverTime(
    q: TimeRange & { bucketMs: number; homeIds?: readonly string[]; kind?: string },
  ): Promise<AlertCountBucket[]> {
    const homes = homeFilter(q.homeIds);
    const kind = q.kind === undefined ? '' : ' AND kind = ?';
    const rows = this.db
      .prepare<unknown[], { kind: string; raised_at: number }>(
        `SELECT kind, raised_at FROM alerts WHERE raised_at >= ? AND raised_at < ?${homes.sql}${kind}`,
      )
      .all(q.fromMs, q.toMs, ...homes.args, ...(q.kind === undefined ? [] : [q.kind]));
    return bucketize(
      rows.map((r) => ({ atMs: r.raised_at, kind: r.kind })),
      q.fromMs,
      q.bucketMs,
    );
  }

  async deviceEvents(deviceId: string, q: TimeRange & { limit: number }): Promise<DeviceEventRecord[]> {
    const rows = this.db
      .prepare<[string, number, number, number], { received_at: number; type: string; payload: string }>(
        `SELECT received_at, type, payload FROM journal WHERE device_id = ? AND received_at >= ? AND received_at < ? AND indexed = 1
         ORDER BY received_at DESC, seq DESC LIMIT ?`,
      )
      .all(deviceId, q.fromMs, q.toMs, Math.max(1, Math.trunc(q.limit)));
    return rows.map((r) => {
      const out: DeviceEventRecord = { atMs: r.received_at, type: r.type };
      let p: Record<string, unknown> = {};
      try {
        p = JSON.parse(r.payload) as Record<string, unknown>;
      } catch {
        // keep the bare record
      }
      if (typeof p.battery === 'number') out.battery = p.battery;
      if (typeof p.rssi === 'number') out.rssi = p.rssi;
      if (typeof p.batteryLow === 'boolean') out.batteryLow = p.batteryLow;
      return out;
    });
  }

  async responseTimes(q: TimeRange & { homeIds?: readonly string[] }): Promise<ResponseTimes> {
    const homes = homeFilter(q.homeIds);
    const rows = this.db
      .prepare<unknown[], AlertRow>(
        `SELECT kind, raised_at, data FROM alerts WHERE raised_at >= ? AND raised_at < ?${homes.sql}`,
      )
      .all(q.fromMs, q.toMs, ...homes.args);
    const samples: ResponseSample[] = rows.map((r) => {
      const rec = JSON.parse(r.data) as { acknowledgedAtMs?: number | null; resolvedAtMs?: number | null };
      const ack =
        typeof rec.acknowledgedAtMs === 'number'
          ? Math.max(0, (rec.acknowledgedAtMs - r.raised_at) / 1000)
          : null;
      const res =
        typeof rec.resolvedAtMs === 'number' ? Math.max(0, (rec.resolvedAtMs - r.raised_at) / 1000) : null;
      return { kind: r.kind, ackSeconds: ack, resolveSeconds: res };
    });
    return summarize(samples);
  }
}
