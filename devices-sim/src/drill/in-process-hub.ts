import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSecret } from '../../../hub/src/auth/secrets.js';
import { parseConfig } from '../../../hub/src/config/load.js';
import type { HubConfig } from '../../../hub/src/config/schema.js';
import { createLogger, type LogLevel } from '../../../hub/src/log.js';
import { Hub } from '../../../hub/src/main.js';

/** The staff account a self-contained drill adds to its hub to move the clock and read alerts. */
export const DRILL_STAFF_ID = 'carehub-sim-drill';

export interface DrillHubOptions {
  /** The site configuration as a raw (unparsed) object. */
  raw: Record<string, unknown>;
  /** Where the drill clock starts (epoch ms). */
  startMs: number;
  /** Hub log level (default silent: the drill prints its own report). */
  logLevel?: LogLevel;
}

export interface DrillHub {
  hub: Hub;
  config: Readonly<HubConfig>;
  httpUrl: string;
  mqttUrl: string;
  /** Supervisor login added for the drill. */
  user: string;
  password: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A real hub in this process for one drill: the given site configuration on the manual clock, a
 * temporary data dir, free ports on 127.0.0.1, no time-series sink, and a supervisor account with a
 * one-off password so the drill can move the clock over HTTP like any client.
 */
export async function startDrillHub(options: DrillHubOptions): Promise<DrillHub> {
  const password = randomBytes(18).toString('base64url');
  const raw = structuredClone(options.raw);
  delete raw.influx;
  raw.clock = 'manual';
  const staff = Array.isArray(raw.staff) ? (raw.staff as unknown[]) : [];
  raw.staff = [
    ...staff,
    {
      id: DRILL_STAFF_ID,
      name: 'carehub-sim drill',
      role: 'supervisor',
      passwordHash: await hashSecret(password),
    },
  ];
  // A drill's data dir is thrown away: on tmpfs where there is one, its commits cost no disk sync.
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'carehub-drill-'));
  try {
    const parsed = parseConfig(raw, {
      CAREHUB_MQTT_PORT: '0',
      CAREHUB_HTTP_PORT: '0',
      CAREHUB_DATA_DIR: dataDir,
    });
    const config: Readonly<HubConfig> = {
      ...parsed,
      mqtt: withoutPublishRateLimit({ ...parsed.mqtt, host: '127.0.0.1' }),
      http: { ...parsed.http, host: '127.0.0.1' },
    };
    const hub = new Hub(config, {
      logger: createLogger(options.logLevel ?? 'silent'),
      manualClockStart: options.startMs,
      processMetrics: false,
    });
    const ports = await hub.start();
    return {
      hub,
      config,
      httpUrl: `http://127.0.0.1:${ports.http}`,
      mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
      user: DRILL_STAFF_ID,
      password,
      dataDir,
      async stop() {
        await hub.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A drill plays a day in seconds of real time, so a device sends in seconds what it sends in a day.
 * The broker's per-device publish rate limit (mqtt.limits, real time) would drop those events, so the
 * drill's own hub runs without it. Written against the shape, not the type: hubs without limits
 * simply have nothing to switch off.
 */
function withoutPublishRateLimit<T extends object>(mqtt: T): T {
  const limits = (mqtt as { limits?: unknown }).limits;
  if (!limits || typeof limits !== 'object') return mqtt;
  return { ...mqtt, limits: { ...limits, publishPerSecond: 0, gatewayPublishPerSecond: 0 } };
}
