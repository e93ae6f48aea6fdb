import type { StreamName } from '../model/outbox-rows.js';
import type { MeasurementName } from './schema.js';

export type FieldValue = number | string | boolean;

/** One point, ready for any backend. Field types come from schema.ts. */
export interface TsPoint {
  readonly measurement: MeasurementName;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Epoch nanoseconds as a decimal string: row time in ms × 10⁶ plus a per-row offset (see points.ts). */
  readonly timeNs: string;
}

export interface SelectQuery {
  measurement: MeasurementName;
  /** Inclusive, epoch ms. */
  fromMs: number;
  /** Exclusive, epoch ms. */
  toMs: number;
  /** Tag equality; an array means any of these values. */
  tags?: Readonly<Record<string, string | readonly string[]>> | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit?: number | undefined;
}

export interface SelectRow {
  timeMs: number;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
}

export type BackendKind = 'influxdb1' | 'influxdb2';

/**
 * A time-series store the shipper writes to. Errors are HubErrors: code HUB_ERR_STORE_REJECTED
 * (details.status 400/413/422: the points themselves were refused; never retry them as they are) or
 * HUB_ERR_STORE_UNAVAILABLE (network, timeout, 5xx, 429, auth, missing database: retry later).
 */
export interface TimeSeriesBackend {
  readonly kind: BackendKind;
  /** Where it writes, without credentials (for health and logs). */
  readonly target: string;
  /** Make the store ready (1.x: create the database and retention policy if missing). Idempotent. */
  init(): Promise<void>;
  write(points: readonly TsPoint[]): Promise<void>;
  select(query: SelectQuery): Promise<SelectRow[]>;
  /** Delete every point of `measurement` whose tags match (all of them). */
  deleteWhere(measurement: MeasurementName, tags: Readonly<Record<string, string>>): Promise<void>;
  /** Delete every point of `measurement` older than `beforeMs`. */
  deleteBefore(measurement: MeasurementName, beforeMs: number): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface TimeSeriesHealth {
  backend: BackendKind;
  target: string;
  /** null until the first attempt. */
  reachable: boolean | null;
  backlogRows: Record<StreamName | 'metrics', number>;
  lastError: { at: string; code: string; message: string } | null;
  lastSuccessAt: string | null;
  shippedPoints: number;
  deadLetters: number;
  droppedTelemetryRows: number;
  droppedAlertRows: number;
}
