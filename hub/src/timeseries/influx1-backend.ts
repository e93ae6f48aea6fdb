import { FieldType, InfluxDB, type IPoint, type IPoolOptions, type ISchemaOptions } from 'influx';
import { isTag, MEASUREMENTS, type MeasurementName } from './schema.js';
import type { FieldValue, SelectQuery, SelectRow, TimeSeriesBackend, TsPoint } from './types.js';
import { httpFailure, networkFailure, safeUrl } from './write-errors.js';

export interface Influx1Options {
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  retentionPolicy?: string | undefined;
  /** Duration of the retention policy when it has to be created (InfluxQL, e.g. '0s' = forever, '520w'). */
  retentionPolicyDuration?: string | undefined;
  requestTimeoutMs?: number | undefined;
}

/** The pool never parks the host (no hidden timers, no in-memory retries): the shipper retries. */
const noBackoff: NonNullable<IPoolOptions['backoff']> = {
  getDelay: () => 0,
  next() {
    return this;
  },
  reset() {
    return this;
  },
};

const TYPE_MAP = {
  integer: FieldType.INTEGER,
  float: FieldType.FLOAT,
  string: FieldType.STRING,
  boolean: FieldType.BOOLEAN,
} as const;

const quoteIdent = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const quoteString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

interface RawSeries {
  name: string;
  columns: string[];
  values?: unknown[][];
}
interface RawResults {
  results?: Array<{ series?: RawSeries[]; error?: string }>;
}

/** InfluxDB 1.x through the `influx` package: InfluxQL, /write with precision=n. */
export class Influx1Backend implements TimeSeriesBackend {
  readonly kind = 'influxdb1' as const;
  readonly target: string;
  readonly #influx: InfluxDB;

  constructor(private readonly options: Influx1Options) {
    const url = new URL(options.url);
    this.target = `${safeUrl(options.url)} db=${options.database}${options.retentionPolicy ? ` rp=${options.retentionPolicy}` : ''}`;
    const schema: ISchemaOptions[] = Object.entries(MEASUREMENTS).map(([measurement, s]) => ({
      measurement,
      tags: [...s.tags],
      fields: Object.fromEntries(Object.entries(s.fields).map(([k, t]) => [k, TYPE_MAP[t]])),
    }));
    this.#influx = new InfluxDB({
      hosts: [
        {
          host: url.hostname,
          port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
          protocol: url.protocol === 'https:' ? 'https' : 'http',
          path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
        },
      ],
      database: options.database,
      ...(options.username === undefined
        ? {}
        : { username: options.username, password: options.password ?? '' }),
      schema,
      pool: { maxRetries: 0, backoff: noBackoff, requestTimeout: options.requestTimeoutMs ?? 10_000 },
    });
  }

  async init(): Promise<void> {
    await this.#call(async () => {
      const names = await this.#influx.getDatabaseNames();
      if (!names.includes(this.options.database)) await this.#influx.createDatabase(this.options.database);
      const rp = this.options.retentionPolicy;
      if (rp) {
        const existing = await this.#influx.showRetentionPolicies(this.options.database);
        if (!existing.some((p) => p.name === rp)) {
          await this.#influx.createRetentionPolicy(rp, {
            database: this.options.database,
            duration: this.options.retentionPolicyDuration ?? '0s',
            replication: 1,
            isDefault: false,
          });
        }
      }
    });
  }

  async write(points: readonly TsPoint[]): Promise<void> {
    if (points.length === 0) return;
    const ipoints: IPoint[] = points.map((p) => ({
      measurement: p.measurement,
      tags: { ...p.tags },
      fields: { ...p.fields },
      timestamp: p.timeNs,
    }));
    let pending: Promise<void>;
    try {
      pending = this.#influx.writePoints(ipoints, {
        precision: 'n',
        ...(this.options.retentionPolicy ? { retentionPolicy: this.options.retentionPolicy } : {}),
      });
    } catch (err) {
      // The client refused to serialise a point (schema mismatch): a point-level refusal, like a 400.
      throw httpFailure(400, `point not writable: ${(err as Error).message}`, err);
    }
    await this.#call(() => pending);
  }

  async select(q: SelectQuery): Promise<SelectRow[]> {
    const where = [`time >= ${Math.trunc(q.fromMs)}ms`, `time < ${Math.trunc(q.toMs)}ms`];
    for (const [tag, value] of Object.entries(q.tags ?? {})) {
      const values = typeof value === 'string' ? [value] : value;
      if (values.length === 0) return [];
      where.push(`(${values.map((v) => `${quoteIdent(tag)} = ${quoteString(v)}`).join(' OR ')})`);
    }
    let text = `SELECT * FROM ${this.#from(q.measurement)} WHERE ${where.join(' AND ')} ORDER BY time ${q.order === 'desc' ? 'DESC' : 'ASC'}`;
    if (q.limit !== undefined) text += ` LIMIT ${Math.max(1, Math.trunc(q.limit))}`;
    const raw = (await this.#call(() =>
      this.#influx.queryRaw(text, { database: this.options.database, precision: 'ms' }),
    )) as RawResults;
    const result = raw.results?.[0];
    if (result?.error) throw httpFailure(400, result.error);
    const rows: SelectRow[] = [];
    for (const series of result?.series ?? []) {
      for (const values of series.values ?? []) {
        const row: SelectRow = { timeMs: Number(values[0]), tags: {}, fields: {} };
        series.columns.forEach((col, i) => {
          const v = values[i];
          if (i === 0 || v === null || v === undefined) return;
          if (isTag(q.measurement, col)) row.tags[col] = String(v);
          else row.fields[col] = v as FieldValue;
        });
        rows.push(row);
      }
    }
    return rows;
  }

  async deleteWhere(measurement: MeasurementName, tags: Readonly<Record<string, string>>): Promise<void> {
    const where = Object.entries(tags).map(([k, v]) => `${quoteIdent(k)} = ${quoteString(v)}`);
    await this.#exec(
      `DELETE FROM ${quoteIdent(measurement)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
    );
  }

  async deleteBefore(measurement: MeasurementName, beforeMs: number): Promise<void> {
    await this.#exec(`DELETE FROM ${quoteIdent(measurement)} WHERE time < ${Math.trunc(beforeMs)}ms`);
  }

  async ping(): Promise<boolean> {
    try {
      const hosts = await this.#influx.ping(this.options.requestTimeoutMs ?? 5000);
      return hosts.some((h) => h.online);
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // The influx pool holds no open resources between requests.
  }

  /** DELETE in 1.x spans every retention policy of the database, so no rp prefix here. */
  async #exec(statement: string): Promise<void> {
    const raw = (await this.#call(() =>
      this.#influx.queryRaw(statement, { database: this.options.database }),
    )) as RawResults;
    const error = raw.results?.find((r) => r.error)?.error;
    if (error) throw httpFailure(400, error);
  }

  #from(measurement: MeasurementName): string {
    const rp = this.options.retentionPolicy;
    return rp
      ? `${quoteIdent(this.options.database)}.${quoteIdent(rp)}.${quoteIdent(measurement)}`
      : quoteIdent(measurement);
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // The package's RequestError (3xx/4xx, not exported) carries the response.
      const status = (err as { res?: { statusCode?: unknown } } | null)?.res?.statusCode;
      if (typeof status === 'number') throw httpFailure(status, bodyError((err as Error).message), err);
      if (err instanceof Error && err.name === 'HubError') throw err;
      throw networkFailure(err);
    }
  }
}

/** RequestError messages read "A 400 Bad Request error occurred: {"error":"…"}": keep InfluxDB's own words. */
function bodyError(message: string): string {
  const i = message.indexOf('{');
  if (i >= 0) {
    try {
      const body = JSON.parse(message.slice(i)) as { error?: unknown };
      if (typeof body.error === 'string') return body.error;
    } catch {
      // not JSON: fall through
    }
  }
  return message;
}
