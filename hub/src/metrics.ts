import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per hub instance (tests run several hubs in one process). */
export class Metrics {
  readonly registry = new Registry();
  readonly devicesConnected = new Gauge({
    name: 'carehub_devices_connected',
    help: 'MQTT clients connected',
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'carehub_ingest_events_total',
    help: 'Device messages accepted into the journal, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'carehub_ingest_duplicates_total',
    help: 'Duplicate deliveries dropped',
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'carehub_ingest_rejected_total',
    help: 'Device messages rejected, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly connectionsRefused = new Counter({
    name: 'carehub_mqtt_connections_refused_total',
    help: 'MQTT connections refused or closed by the hub, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly alertChanges = new Counter({
    name: 'carehub_alert_changes_total',
    help: 'Alert transitions, by kind and resulting status',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly timeToAck = new Histogram({
    name: 'carehub_alert_time_to_ack_seconds',
    help: 'Seconds from raise to first acknowledgement',
    labelNames: ['kind'] as const,
    buckets: [5, 15, 30, 60, 120, 180, 300, 600, 1800],
    registers: [this.registry],
  });
  readonly checkinRequests = new Counter({
    name: 'carehub_checkin_requests_sent_total',
    help: 'Check-in requests sent to SOS buttons (one per button; a resend after a restart counts again)',
    registers: [this.registry],
  });
  readonly notifyAttempts = new Counter({
    name: 'carehub_notify_attempts_total',
    help: 'Notification delivery attempts, by channel and result (sent, retry, failed)',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });
  readonly feedClients = new Gauge({
    name: 'carehub_feed_clients',
    help: 'Connected duty-staff feed clients',
    registers: [this.registry],
  });
  readonly journalLag = new Gauge({
    name: 'carehub_journal_lag_rows',
    help: 'Journal rows accepted but not yet processed by the rules',
    registers: [this.registry],
  });

  /** A cluster node (docs/cluster.md): 1 while it leads; the log position applied here; appends refused. */
  readonly clusterLeader = new Gauge({
    name: 'carehub_cluster_leader',
    help: 'Cluster node: 1 while this node holds the leader lease',
    registers: [this.registry],
  });

  readonly clusterApplied = new Gauge({
    name: 'carehub_cluster_applied_position',
    help: 'Cluster node: position of the last entry of the replicated log applied here',
    registers: [this.registry],
  });

  readonly clusterAppendFailures = new Counter({
    name: 'carehub_cluster_append_failures_total',
    help: 'Cluster node: appends to the replicated log that failed (no acknowledgement sent)',
    registers: [this.registry],
  });

  readonly restarts = new Gauge({
    name: 'carehub_hub_starts',
    help: 'Starts of a hub on this data dir since it was created: all, and unclean (after a crash, kill -9 or power cut; a supervisor restarted it)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly walBytes = new Gauge({
    name: 'carehub_store_wal_bytes',
    help: 'Size of the SQLite write-ahead log file (hub.db-wal)',
    registers: [this.registry],
  });
  readonly walResets = new Counter({
    name: 'carehub_store_wal_resets_total',
    help: 'Times the write-ahead log started again from its beginning',
    registers: [this.registry],
  });
  readonly checkpointPause = new Histogram({
    name: 'carehub_store_checkpoint_pause_seconds',
    help: 'How long journal commits were held for a checkpoint to reset the write-ahead log',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
    registers: [this.registry],
  });

  constructor(collectProcessMetrics = true) {
    if (collectProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'carehub_' });
  }
}
