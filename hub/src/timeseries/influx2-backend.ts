import { fluxString, HttpError, InfluxDB, Point } from '@influxdata/influxdb-client';
import { ErrorCodes, HubError } from '../errors.js';
import { fieldType, isTag, type MeasurementName } from './schema.js';
import type { FieldValue, SelectQuery, SelectRow, TimeSeriesBackend, TsPoint } from './types.js';
import { httpFailure, networkFailure, safeUrl } from './write-errors.js';

export interface Influx2Options {
  url: string;
  org: string;
  bucket: string;
  token: string;
  requestTimeoutMs?: number | undefined;
}

const FAR_PAST = '1970-01-01T00:00:00Z';
const FAR_FUTURE = '2262-04-11T00:00:00Z';

/**
 * InfluxDB 2.x through @influxdata/influxdb-client. Writes go through the client's transport as one
 * plain POST /api/v2/write per batch, never through its WriteApi: that API keeps retries in memory,
 * drops lines when its buffer is full and resolves flush() regardless. The shipper owns durability.
 */
export class Influx2Backend implements TimeSeriesBackend {
  readonly kind = 'influxdb2' as const;
  readonly target: string;
  readonly #client: InfluxDB;

  constructor(private readonly options: Influx2Options) {
    this.target = `${safeUrl(options.url)} org=${options.org} bucket=${options.bucket}`;
    this.#client = new InfluxDB({
      url: options.url,
      token: options.token,
      timeout: options.requestTimeoutMs ?? 10_000,
    });
  }

  async init(): Promise<void> {
    const q = new URLSearchParams({ org: this.options.org, name: this.options.bucket });
    const res = (await this.#request('GET', `/api/v2/buckets?${q}`, undefined)) as
      | { buckets?: unknown[] }
      | undefined;
    if (!res?.buckets?.length) {
      throw new HubError(
        ErrorCodes.STORE_UNAVAILABLE,
        `InfluxDB 2.x bucket "${this.options.bucket}" not found in org "${this.options.org}"`,
        {
          details: { status: 404 },
        },
      );
    }
  }

  async write(points: readonly TsPoint[]): Promise<void> {
    if (points.length === 0) return;
    const body = points.map(toLine).join('\n');
    const q = new URLSearchParams({ org: this.options.org, bucket: this.options.bucket, precision: 'ns' });
    await this.#request('POST', `/api/v2/write?${q}`, body, 'text/plain; charset=utf-8');
  }

  async select(query: SelectQuery): Promise<SelectRow[]> {
    const lines = [
      `from(bucket: ${fluxString(this.options.bucket)})`,
      `  |> range(start: ${new Date(query.fromMs).toISOString()}, stop: ${new Date(query.toMs).toISOString()})`,
      `  |> filter(fn: (r) => r._measurement == ${fluxString(query.measurement)})`,
    ];
    for (const [tag, value] of Object.entries(query.tags ?? {})) {
      const values = typeof value === 'string' ? [value] : value;
      if (values.length === 0) return [];
      lines.push(
        `  |> filter(fn: (r) => ${values.map((v) => `r[${fluxString(tag)}] == ${fluxString(v)}`).join(' or ')})`,
      );
    }
    lines.push(
      '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
      '  |> group()',
      `  |> sort(columns: ["_time"], desc: ${query.order === 'desc'})`,
    );
    if (query.limit !== undefined) lines.push(`  |> limit(n: ${Math.max(1, Math.trunc(query.limit))})`);
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await this.#client
        .getQueryApi(this.options.org)
        .collectRows<Record<string, unknown>>(lines.join('\n'));
    } catch (err) {
      throw classify(err);
    }
    return rows.map((r) => {
      const out: SelectRow = { timeMs: Date.parse(String(r._time)), tags: {}, fields: {} };
      for (const [col, v] of Object.entries(r)) {
        if (
          col.startsWith('_') ||
          col === 'result' ||
          col === 'table' ||
          v === null ||
          v === undefined ||
          v === ''
        )
          continue;
        if (isTag(query.measurement, col)) out.tags[col] = String(v);
        else if (fieldType(query.measurement, col)) out.fields[col] = v as FieldValue;
      }
      return out;
    });
  }

  async deleteWhere(measurement: MeasurementName, tags: Readonly<Record<string, string>>): Promise<void> {
    const predicate = [
      `_measurement=${deleteValue(measurement)}`,
      ...Object.entries(tags).map(([k, v]) => `${k}=${deleteValue(v)}`),
    ];
    await this.#delete(FAR_PAST, FAR_FUTURE, predicate.join(' AND '));
  }

  async deleteBefore(measurement: MeasurementName, beforeMs: number): Promise<void> {
    await this.#delete(
      FAR_PAST,
      new Date(beforeMs).toISOString(),
      `_measurement=${deleteValue(measurement)}`,
    );
  }

  async ping(): Promise<boolean> {
    try {
      await this.#request('GET', '/ping', undefined);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    // Requests are one-shot; nothing is buffered in the client.
  }

  async #delete(start: string, stop: string, predicate: string): Promise<void> {
    const q = new URLSearchParams({ org: this.options.org, bucket: this.options.bucket });
    await this.#request(
      'POST',
      `/api/v2/delete?${q}`,
      JSON.stringify({ start, stop, predicate }),
      'application/json',
    );
  }

  async #request(
    method: string,
    path: string,
    body: string | undefined,
    contentType?: string,
  ): Promise<unknown> {
    try {
      return await this.#client.transport.request(path, body ?? '', {
        method,
        headers: contentType ? { 'content-type': contentType } : {},
      });
    } catch (err) {
      throw classify(err);
    }
  }
}

function classify(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof HttpError) {
    let message = err.body ?? err.statusMessage ?? '';
    try {
      const parsed = JSON.parse(message) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      // plain text body
    }
    return httpFailure(err.statusCode, message, err);
  }
  return networkFailure(err);
}

const deleteValue = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Line protocol by the official client's Point (escaping), typed from schema.ts. */
export function toLine(p: TsPoint): string {
  const point = new Point(p.measurement);
  for (const [k, v] of Object.entries(p.tags)) point.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) {
    switch (fieldType(p.measurement, k)) {
      case 'integer':
        point.intField(k, v);
        break;
      case 'float':
        point.floatField(k, v);
        break;
      case 'string':
        point.stringField(k, v);
        break;
      case 'boolean':
        point.booleanField(k, v);
        break;
      default:
        throw httpFailure(400, `point not writable: field "${k}" is not in the ${p.measurement} schema`);
    }
  }
  point.timestamp(p.timeNs);
  const line = point.toLineProtocol();
  if (line === undefined) throw httpFailure(400, `point not writable: ${p.measurement} point without fields`);
  return line;
}
