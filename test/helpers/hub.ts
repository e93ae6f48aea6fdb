import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../hub/src/config/load.js';
import type { HubConfig } from '../../hub/src/config/schema.js';
import { createLogger } from '../../hub/src/log.js';
import { Hub, type HubOptions } from '../../hub/src/main.js';
import type { DeviceLogEntry } from '../../hub/src/model/entries.js';

export const DEMO_CONFIG = join(import.meta.dirname, '..', '..', 'config', 'demo.yaml');

/** Every device of the demo community (config/demo.yaml), in file order. */
export const DEMO_DEVICE_IDS: readonly string[] = (
  parseDocument(readFileSync(DEMO_CONFIG, 'utf8')).toJS() as {
    homes: Array<{ devices: Array<{ id: string }> }>;
  }
).homes.flatMap((h) => h.devices.map((d) => d.id));

/** The demo configuration as a raw object, to tweak before parsing. */
export function demoRaw(): Record<string, unknown> {
  return parseDocument(readFileSync(DEMO_CONFIG, 'utf8')).toJS() as Record<string, unknown>;
}

export function tempDir(prefix = 'carehub-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestHub {
  hub: Hub;
  config: Readonly<HubConfig>;
  dataDir: string;
  mqttUrl: string;
  httpUrl: string;
  wsUrl: string;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** A real hub in this process on free ports with a fresh data dir (or a given one, for restarts). */
export async function startHub(
  overrides: { raw?: Record<string, unknown>; dataDir?: string; env?: NodeJS.ProcessEnv } & HubOptions = {},
): Promise<TestHub> {
  const dataDir = overrides.dataDir ?? tempDir();
  const raw = overrides.raw ?? demoRaw();
  const config = parseConfig(raw, {
    CAREHUB_MQTT_PORT: '0',
    CAREHUB_HTTP_PORT: '0',
    CAREHUB_DATA_DIR: dataDir,
    ...overrides.env,
  });
  const hub = new Hub(
    { ...config, mqtt: { ...config.mqtt, host: '127.0.0.1' }, http: { ...config.http, host: '127.0.0.1' } },
    {
      logger: overrides.logger ?? createLogger('silent'),
      processMetrics: false,
      ...(overrides.manualClockStart !== undefined ? { manualClockStart: overrides.manualClockStart } : {}),
      ...(overrides.realNow ? { realNow: overrides.realNow } : {}),
    },
  );
  const ports = await hub.start();
  return {
    hub,
    config,
    dataDir,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    wsUrl: `ws://127.0.0.1:${ports.http}`,
    async stop(options = {}) {
      await hub.stop();
      if (!options.keepData && !overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Connect a real MQTT client as a demo device (secret `<id>-demo`). */
export async function connectDevice(
  url: string,
  deviceId: string,
  options: mqtt.IClientOptions = {},
): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    clientId: deviceId,
    username: deviceId,
    password: `${deviceId}-demo`,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

export async function login(
  httpUrl: string,
  username: string,
  password = `${username}-demo`,
): Promise<string> {
  const res = await fetch(`${httpUrl}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function api<T = unknown>(
  httpUrl: string,
  token: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${httpUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The device events in a hub's log, oldest first, read through the log's interface. */
export function deviceEvents(hub: Hub): DeviceLogEntry[] {
  return hub.store.journal
    .readAfter(0, 1_000_000)
    .flatMap(({ entry }) => (entry.kind === 'device' ? [entry] : []));
}
