import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadConfigFile, problemsOf } from '../../hub/src/config/load.js';
import type { DeviceConfig, HubConfig } from '../../hub/src/config/schema.js';
import { packageRoot } from '../../hub/src/package-root.js';
import { localMqttUrl } from './hub-address.js';

/** A problem the user can fix; the CLI prints the message and exits 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULT_CONFIG = join('config', 'demo.yaml');

export interface TargetRequest {
  deviceId: string;
  configFile?: string | undefined;
  secret?: string | undefined;
  hubMqtt?: string | undefined;
  dataDir?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Target {
  device: DeviceConfig;
  homeId: string;
  secret: string;
  url: string;
  /** Where the URL came from, for error messages. */
  urlSource: string;
}

/** Which device to play, with which secret, against which hub: from options, environment and configuration. */
export function resolveTarget(req: TargetRequest): Target {
  const file = configFileOf(req);
  const config = loadConfig(file, req.env);
  const found = findDevice(config, req.deviceId);
  if (!found) {
    throw new UsageError(
      `unknown device "${req.deviceId}": not in ${shown(req, file)} (devices: ${deviceIds(config)})`,
    );
  }
  const secret = req.secret ?? (req.env.CAREHUB_DEVICE_SECRET || undefined) ?? found.device.demoSecret;
  if (!secret) {
    throw new UsageError(
      `no secret for device "${req.deviceId}": give --secret or CAREHUB_DEVICE_SECRET (only demo configurations carry demoSecret)`,
    );
  }
  return { device: found.device, homeId: found.homeId, secret, ...hubUrl(req, config, file) };
}

function configFileOf(req: TargetRequest): string {
  if (req.configFile) return resolve(req.cwd, req.configFile);
  const local = resolve(req.cwd, DEFAULT_CONFIG);
  return existsSync(local) ? local : join(packageRoot(), DEFAULT_CONFIG);
}

function loadConfig(file: string, env: NodeJS.ProcessEnv): Readonly<HubConfig> {
  try {
    return loadConfigFile(file, env);
  } catch (err) {
    const problems = problemsOf(err).map((p) => `\n  ${p.path}: ${p.message}`);
    throw new UsageError(`${(err as Error).message}${problems.join('')}`);
  }
}

function findDevice(
  config: Readonly<HubConfig>,
  id: string,
): { device: DeviceConfig; homeId: string } | undefined {
  for (const home of config.homes) {
    const device = home.devices.find((d) => d.id === id);
    if (device) return { device, homeId: home.id };
  }
  return undefined;
}

function deviceIds(config: Readonly<HubConfig>): string {
  const ids = config.homes.flatMap((h) => h.devices.map((d) => d.id));
  return ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, …` : ids.join(', ');
}

/** --hub-mqtt, else the running hub's ports.json in its data dir, else the configured port on this machine. */
function hubUrl(
  req: TargetRequest,
  config: Readonly<HubConfig>,
  file: string,
): { url: string; urlSource: string } {
  if (req.hubMqtt) {
    let url: URL;
    try {
      url = new URL(req.hubMqtt);
    } catch {
      throw new UsageError(`--hub-mqtt: not a URL: "${req.hubMqtt}" (e.g. mqtt://127.0.0.1:1883)`);
    }
    if (!['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'].includes(url.protocol)) {
      throw new UsageError(`--hub-mqtt: use an mqtt://, mqtts://, ws:// or wss:// URL, not "${req.hubMqtt}"`);
    }
    return { url: req.hubMqtt, urlSource: '--hub-mqtt' };
  }
  // The configuration already carries CAREHUB_DATA_DIR (loadConfigFile applies the overrides).
  const dataDir = resolve(req.cwd, req.dataDir ?? config.dataDir);
  const portsFile = join(dataDir, 'ports.json');
  const port = readMqttPort(portsFile);
  if (port !== undefined) return { url: `mqtt://127.0.0.1:${port}`, urlSource: shown(req, portsFile) };
  return {
    url: localMqttUrl(config.mqtt.host, config.mqtt.port),
    urlSource: `mqtt.port of ${shown(req, file)}, as there is no ${shown(req, portsFile)}`,
  };
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(req: TargetRequest, file: string): string {
  const rel = relative(req.cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function readMqttPort(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const port = (JSON.parse(text) as { mqtt?: unknown }).mqtt;
    if (typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536) return port;
  } catch {
    // fall through
  }
  throw new UsageError(`${file} is not a hub ports file ({"mqtt":N,...}); give --hub-mqtt URL`);
}
