/**
 * What the shipper writes to InfluxDB: measurements, their tags and typed fields. The single source
 * of truth for the backends (field types), the Grafana dashboards test and docs/storage.md.
 */
export type FieldType = 'integer' | 'float' | 'string' | 'boolean';

export interface MeasurementSchema {
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, FieldType>>;
}

export const MEASUREMENTS = {
  /** One point per accepted device message (journal row). */
  device_event: {
    tags: ['home', 'device', 'kind', 'type'],
    fields: { value: 'integer', seq: 'integer', battery: 'float', rssi: 'float', battery_low: 'boolean' },
  },
  /** One point per device change the hub announced on the feed (online/offline, battery). */
  device_status: {
    tags: ['home', 'device', 'kind'],
    fields: { online: 'integer', battery: 'float' },
  },
  /** One point per alert transition (raise, repeat, escalation, ack, note, resolve). */
  alert: {
    tags: ['home', 'kind', 'severity', 'status'],
    fields: {
      alert_id: 'string',
      version: 'integer',
      raised: 'integer',
      open_delta: 'integer',
      occurrences: 'integer',
      escalation_level: 'integer',
      seconds_to_ack: 'float',
      seconds_to_resolve: 'float',
      ack_within_60s: 'integer',
      ack_within_180s: 'integer',
      outcome: 'string',
      device: 'string',
      cancelled_by_resident: 'boolean',
    },
  },
  /** Periodic hub figures. */
  hub_metrics: {
    tags: ['site'],
    fields: {
      connected_devices: 'integer',
      ingest_rate: 'float',
      backlog_rows: 'integer',
      journal_lag_rows: 'integer',
    },
  },
} as const satisfies Record<string, MeasurementSchema>;

export type MeasurementName = keyof typeof MEASUREMENTS;
export const MEASUREMENT_NAMES = Object.keys(MEASUREMENTS) as MeasurementName[];

/** Measurements that carry a `home` tag: what a resident purge erases. */
export const HOME_MEASUREMENTS: readonly MeasurementName[] = ['device_event', 'device_status', 'alert'];

const DAY = 24 * 3600_000;

/** Default retention per measurement in ms; 0 keeps forever (alerts are the care record). */
export const DEFAULT_RETENTION_MS: Readonly<Record<MeasurementName, number>> = {
  device_event: 180 * DAY,
  device_status: 180 * DAY,
  alert: 0,
  hub_metrics: 30 * DAY,
};

export function fieldType(measurement: MeasurementName, field: string): FieldType | undefined {
  return (MEASUREMENTS[measurement].fields as Readonly<Record<string, FieldType>>)[field];
}

export function isTag(measurement: MeasurementName, name: string): boolean {
  return (MEASUREMENTS[measurement].tags as readonly string[]).includes(name);
}
