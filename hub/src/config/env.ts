import { LOG_LEVELS } from '../log.js';
import type { ConfigProblem } from './problems.js';

/**
 * Environment overrides of PROTOCOL.md §4. Applied to the raw document before validation, so an
 * override is checked by the same schema and reported by the variable's name when it is wrong.
 */
export function applyEnvOverrides(
  raw: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { value: raw, problems };
  const cfg = structuredClone(raw) as Record<string, unknown>;
  const section = (name: string): Record<string, unknown> => {
    const cur = cfg[name];
    if (cur && typeof cur === 'object' && !Array.isArray(cur)) return cur as Record<string, unknown>;
    const fresh: Record<string, unknown> = {};
    cfg[name] = fresh;
    return fresh;
  };
  const port = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = /^\d{1,5}$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      problems.push({
        path: `$${name}`,
        message: `must be a port number 0-65535 (0 = any free port), got "${v}"`,
      });
      return undefined;
    }
    return n;
  };
  const mqttPort = port('CAREHUB_MQTT_PORT');
  if (mqttPort !== undefined) section('mqtt').port = mqttPort;
  const httpPort = port('CAREHUB_HTTP_PORT');
  if (httpPort !== undefined) section('http').port = httpPort;
  // TLS listener ports, only where the configuration has a tls section (0 = any free port).
  for (const [name, key] of [
    ['CAREHUB_MQTTS_PORT', 'mqtt'],
    ['CAREHUB_HTTPS_PORT', 'http'],
  ] as const) {
    const tlsPort = port(name);
    const tls = (cfg[key] as { tls?: unknown } | null | undefined)?.tls;
    if (tlsPort !== undefined && tls && typeof tls === 'object')
      (tls as Record<string, unknown>).port = tlsPort;
  }
  // Lab mode (anonymous clients, any topic) must be asked for twice: in the file and in the environment.
  if ((cfg.mqtt as { lab?: unknown } | null | undefined)?.lab === true && env.CAREHUB_LAB !== '1') {
    problems.push({
      path: 'mqtt.lab',
      message:
        'lab mode accepts anonymous clients on any topic: refused unless the environment sets CAREHUB_LAB=1 (never for real residents)',
    });
  }
  if (env.CAREHUB_DATA_DIR) cfg.dataDir = env.CAREHUB_DATA_DIR;
  const level = env.CAREHUB_LOG_LEVEL;
  if (level) {
    if ((LOG_LEVELS as readonly string[]).includes(level)) section('log').level = level;
    else
      problems.push({
        path: '$CAREHUB_LOG_LEVEL',
        message: `must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`,
      });
  }
  const clock = env.CAREHUB_CLOCK;
  if (clock) {
    if (clock === 'system' || clock === 'manual') cfg.clock = clock;
    else
      problems.push({
        path: '$CAREHUB_CLOCK',
        message: `must be "manual" (drills and tests) or "system", got "${clock}"`,
      });
  }
  if (env.CAREHUB_INFLUX_URL) {
    // The variables describe the connection; tuning from the file (batch size, backlog bound,
    // retention policy) is kept.
    const fromFile =
      cfg.influx && typeof cfg.influx === 'object' ? { ...(cfg.influx as Record<string, unknown>) } : {};
    for (const key of ['url', 'database', 'username', 'password', 'org', 'bucket', 'token'])
      delete fromFile[key];
    const influx: Record<string, unknown> = { ...fromFile, url: env.CAREHUB_INFLUX_URL };
    for (const [key, name] of [
      ['database', 'CAREHUB_INFLUX_DB'],
      ['username', 'CAREHUB_INFLUX_USER'],
      ['password', 'CAREHUB_INFLUX_PASSWORD'],
      ['org', 'CAREHUB_INFLUX_ORG'],
      ['bucket', 'CAREHUB_INFLUX_BUCKET'],
      ['token', 'CAREHUB_INFLUX_TOKEN'],
    ] as const) {
      if (env[name]) influx[key] = env[name];
    }
    cfg.influx = influx;
  }
  // PROTOCOL.md §8: a cluster node. Both variables or neither.
  const natsUrl = env.CAREHUB_NATS_URL;
  const nodeId = env.CAREHUB_NODE_ID;
  if (natsUrl || nodeId) {
    if (!natsUrl || !nodeId)
      problems.push({
        path: natsUrl ? '$CAREHUB_NODE_ID' : '$CAREHUB_NATS_URL',
        message:
          'a cluster node needs both CAREHUB_NATS_URL (the NATS servers) and CAREHUB_NODE_ID (its unique name)',
      });
    else {
      const cluster = section('cluster');
      cluster.natsUrls = natsUrl
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u !== '');
      cluster.nodeId = nodeId;
    }
  }
  return { value: cfg, problems };
}
