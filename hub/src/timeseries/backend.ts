import type { HubConfig } from '../config/schema.js';
import { Influx1Backend } from './influx1-backend.js';
import { Influx2Backend } from './influx2-backend.js';
import type { TimeSeriesBackend } from './types.js';

export type InfluxConfig = NonNullable<HubConfig['influx']>;

export interface BackendOptions {
  requestTimeoutMs?: number | undefined;
  /** 1.x: duration for a retention policy the hub has to create (InfluxQL duration, default '0s' = forever). */
  retentionPolicyDuration?: string | undefined;
}

/** 2.x when org, bucket and token are set (the config schema demands all three together), else 1.x. */
export function createBackend(influx: InfluxConfig, options: BackendOptions = {}): TimeSeriesBackend {
  if (influx.org && influx.bucket && influx.token) {
    return new Influx2Backend({
      url: influx.url,
      org: influx.org,
      bucket: influx.bucket,
      token: influx.token,
      requestTimeoutMs: options.requestTimeoutMs,
    });
  }
  return new Influx1Backend({
    url: influx.url,
    database: influx.database ?? 'carehub',
    username: influx.username,
    password: influx.password,
    retentionPolicy: influx.retentionPolicy,
    retentionPolicyDuration: options.retentionPolicyDuration,
    requestTimeoutMs: options.requestTimeoutMs,
  });
}
