import { Counter, Gauge, type Registry } from 'prom-client';

export interface StoreMetrics {
  backlog: Gauge<'stream'>;
  shipped: Counter;
  deadLetters: Counter;
  droppedTelemetry: Counter;
  droppedAlerts: Counter;
  writeFailures: Counter<'kind'>;
  lastSuccess: Gauge;
}

/** Get-or-create, so a second shipper on the same registry (tests, restarts in-process) reuses the series. */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function storeMetrics(registry: Registry): StoreMetrics {
  const registers = [registry];
  return {
    backlog: once(
      registry,
      'carehub_store_backlog_rows',
      () =>
        new Gauge({
          name: 'carehub_store_backlog_rows',
          help: 'Rows in SQLite not yet shipped to the time-series store, by stream',
          labelNames: ['stream'] as const,
          registers,
        }),
    ),
    shipped: once(
      registry,
      'carehub_store_shipped_points_total',
      () =>
        new Counter({
          name: 'carehub_store_shipped_points_total',
          help: 'Points the time-series store acknowledged (2xx)',
          registers,
        }),
    ),
    deadLetters: once(
      registry,
      'carehub_store_dead_letters_total',
      () =>
        new Counter({
          name: 'carehub_store_dead_letters_total',
          help: 'Points the time-series store refused (4xx) and that went to ts_dead_letter',
          registers,
        }),
    ),
    droppedTelemetry: once(
      registry,
      'carehub_store_dropped_telemetry_total',
      () =>
        new Counter({
          name: 'carehub_store_dropped_telemetry_total',
          help: 'Telemetry rows (device events, device changes, hub metrics) skipped because the backlog passed its bound',
          registers,
        }),
    ),
    droppedAlerts: once(
      registry,
      'carehub_store_dropped_alert_rows_total',
      () =>
        new Counter({
          name: 'carehub_store_dropped_alert_rows_total',
          help: 'Alert rows skipped because the backlog passed its bound with no telemetry left to skip',
          registers,
        }),
    ),
    writeFailures: once(
      registry,
      'carehub_store_write_failures_total',
      () =>
        new Counter({
          name: 'carehub_store_write_failures_total',
          help: 'Failed writes to the time-series store, by kind (unavailable = retried, rejected = dead-lettered or split)',
          labelNames: ['kind'] as const,
          registers,
        }),
    ),
    lastSuccess: once(
      registry,
      'carehub_store_last_success_timestamp_seconds',
      () =>
        new Gauge({
          name: 'carehub_store_last_success_timestamp_seconds',
          help: 'When the time-series store last acknowledged a write',
          registers,
        }),
    ),
  };
}
