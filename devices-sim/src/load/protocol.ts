import type { HistogramData } from './histogram.js';

/** One device a load worker plays. */
export interface LoadDevice {
  id: string;
  secret: string;
  /** door contacts alternate door.opened / door.closed; others send heartbeats as events. */
  door: boolean;
}

/** Coordinator → worker. */
export interface WorkerJob {
  type: 'job';
  worker: number;
  host: string;
  port: number;
  devices: LoadDevice[];
  heartbeatMs: number;
  /** This worker's share of the event rate (messages per second). */
  rate: number;
  durationMs: number;
  /** Spread the connects over this long (0: as fast as allowed). */
  connectStormMs: number;
  /** Connects under way at once in this worker when not spreading them over a storm window. */
  connectConcurrency: number;
  sourceIps: string[];
  /** Unique per run, so event ids never repeat across runs (the hub drops repeated ids). */
  runId: string;
}

export interface WorkerStats {
  worker: number;
  devices: number;
  connected: number;
  /** Refused or failed connects, by reason. */
  connectFailures: Record<string, number>;
  /** From the first connect attempt to the last CONNACK. */
  connectPhaseMs: number;
  connectLatency: HistogramData;
  heartbeats: number;
  events: number;
  acked: number;
  puback: HistogramData;
  /** Publish errors, PUBACKs that never came, disconnects, publishes skipped (device offline, too much in flight). */
  errors: Record<string, number>;
  trafficMs: number;
}

/** Worker → coordinator. */
export type WorkerMessage =
  | { type: 'progress'; worker: number; connected: number; acked: number; phase: 'connect' | 'traffic' }
  | { type: 'done'; stats: WorkerStats }
  | { type: 'failed'; worker: number; message: string };
