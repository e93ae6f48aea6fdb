import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadConfigFile, problemsOf } from '../../../hub/src/config/load.js';
import type { CliIo } from '../cli-io.js';
import { HubClient } from '../drill/hub-client.js';
import { commandOptions } from '../util/command-options.js';
import { hostOf, isLoopbackHost, parseSourceIps } from '../util/loopback.js';
import { durationOption, intOption } from '../util/options.js';
import { metricSum } from '../util/prometheus.js';
import { type LoadPlan, runLoad } from './coordinator.js';
import type { LoadDevice } from './protocol.js';
import { formatLoadResult, type HubCounters, loadClean, loadResultJson } from './report.js';

export const LOAD_USAGE = `Usage: carehub-sim load --hub-mqtt URL --config FILE [options]

Plays many devices against a running hub on this machine: connects them (optionally as a storm),
sends QoS 1 heartbeats and events for a bounded time, and prints the achieved rates, PUBACK latency
percentiles and errors. Targets only this machine (127.0.0.0/8, ::1, localhost): anything else is
refused. The devices must be in the hub's configuration: make one with carehub-sim gen-config.

Options:
  --hub-mqtt URL         the hub's MQTT address (mqtt://127.0.0.1:1883)
  --config FILE          the hub's site configuration (devices and their demoSecret)
  --secret TEXT          device secret, when the configuration has no demoSecret
  --devices N            devices to play, the first N of the configuration (default: all)
  --heartbeat DURATION   heartbeat interval per device (default 60s)
  --rate N               events per second in total, beside heartbeats (default 0)
  --duration DURATION    length of the traffic phase (default 60s, at most 1h)
  --connect-storm DURATION
                         spread the connects over this window, traffic running alongside
                         (default: connect as fast as allowed, then send)
  --connect-concurrency N
                         connects under way at once without a storm window (default 100); a hub
                         bans an address with too many unauthenticated connections at once
  --processes P          worker processes (default: one per 15000 devices); one process holds at
                         most about \`ulimit -n\` sockets
  --source-ips RANGE     local source addresses, e.g. 127.0.0.2-127.0.0.9 (more than ~28000
                         connections from one address exhaust its ephemeral ports)
  --hub-http URL         the hub's HTTP address, to read /metrics and /healthz around the run
  --json                 print a machine-readable result
  -h, --help             this text

Example:
  carehub-sim gen-config --homes 6667 --out /tmp/site.yaml --hash-cost 1024
  carehub-sim load --hub-mqtt mqtt://127.0.0.1:1883 --config /tmp/site.yaml --devices 20000 \\
    --heartbeat 60s --rate 1000 --duration 60s --connect-storm 60s --processes 2
`;

const optionsSchema = z.strictObject({
  'hub-mqtt': z.string({ error: 'required (e.g. mqtt://127.0.0.1:1883)' }),
  config: z.string({ error: 'required: the site configuration (carehub-sim gen-config writes one)' }),
  secret: z.string().min(1).optional(),
  devices: intOption(1, 200_000).optional(),
  heartbeat: durationOption(1000, 3600_000).default(60_000),
  rate: intOption(0, 200_000).default(0),
  duration: durationOption(1000, 3600_000).default(60_000),
  'connect-storm': durationOption(1000, 3600_000).optional(),
  processes: intOption(1, 64).optional(),
  'connect-concurrency': intOption(1, 10_000).default(100),
  'source-ips': z.string().optional(),
  'hub-http': z.string().optional(),
  json: z.boolean().default(false),
});

/** Sockets one process may open (`ulimit -n`), or undefined when it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const n = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

class LoadUsageError extends Error {}

function loopbackUrl(flag: string, text: string, protocols: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LoadUsageError(`${flag}: not a URL: "${text}"`);
  }
  if (!protocols.includes(url.protocol))
    throw new LoadUsageError(`${flag}: use a ${protocols.join(' or ')}// URL`);
  const host = hostOf(text) ?? '';
  if (!isLoopbackHost(host)) {
    throw new LoadUsageError(
      `${flag}: ${host} is not this machine. Load runs target only 127.0.0.0/8, ::1 or localhost: refused.`,
    );
  }
  return url;
}

async function hubCounters(
  client: HubClient,
): Promise<{ accepted: number; duplicates: number; rejected: Record<string, number> }> {
  const text = await client.metrics();
  const rejected: Record<string, number> = {};
  for (const m of text.matchAll(/^carehub_ingest_rejected_total\{[^}]*reason="([^"]+)"[^}]*\}\s+(\S+)/gm)) {
    rejected[m[1] ?? '?'] = (rejected[m[1] ?? '?'] ?? 0) + Number(m[2]);
  }
  return {
    accepted: metricSum(text, 'carehub_ingest_events_total'),
    duplicates: metricSum(text, 'carehub_ingest_duplicates_total'),
    rejected,
  };
}

export async function loadCommand(argv: string[], io: CliIo): Promise<number> {
  const opts = commandOptions(
    'load',
    LOAD_USAGE,
    argv,
    {
      'hub-mqtt': { type: 'string' },
      config: { type: 'string' },
      secret: { type: 'string' },
      devices: { type: 'string' },
      heartbeat: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'connect-storm': { type: 'string' },
      processes: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      'source-ips': { type: 'string' },
      'hub-http': { type: 'string' },
      json: { type: 'boolean' },
    },
    optionsSchema,
    io,
  );
  if (!opts.ok) return opts.exit;
  const o = opts.value;
  let plan: LoadPlan;
  let http: HubClient | undefined;
  try {
    const mqttUrl = loopbackUrl('--hub-mqtt', o['hub-mqtt'], ['mqtt:', 'tcp:']);
    if (o['hub-http'] !== undefined)
      http = new HubClient(loopbackUrl('--hub-http', o['hub-http'], ['http:']).origin);
    const sourceIps = o['source-ips'] === undefined ? [] : parseSourceIpsOrThrow(o['source-ips']);
    const devices = devicesOf(resolve(io.cwd, o.config), o.secret, o.devices);
    const processes = o.processes ?? Math.max(1, Math.ceil(devices.length / 15_000));
    if (processes > devices.length)
      throw new LoadUsageError(`--processes: more processes (${processes}) than devices (${devices.length})`);
    const limit = openFileLimit();
    const perProcess = Math.ceil(devices.length / processes);
    if (limit !== undefined && perProcess > limit - 100) {
      throw new LoadUsageError(
        `${perProcess} sockets per process exceed the open-file limit (ulimit -n = ${limit}): use --processes ${Math.ceil(devices.length / (limit - 100))} or more`,
      );
    }
    if (sourceIps.length === 0 && devices.length > 25_000) {
      throw new LoadUsageError(
        `${devices.length} connections from one source address exhaust its ephemeral ports: give --source-ips 127.0.0.2-127.0.0.9`,
      );
    }
    const storm = o['connect-storm'] ?? 0;
    if (storm > o.duration) throw new LoadUsageError('--connect-storm must not be longer than --duration');
    plan = {
      host: mqttUrl.hostname.replace(/^\[|\]$/g, ''),
      port: Number(mqttUrl.port || 1883),
      devices,
      processes,
      heartbeatMs: o.heartbeat,
      rate: o.rate,
      durationMs: o.duration,
      connectStormMs: storm,
      connectConcurrency: o['connect-concurrency'],
      sourceIps,
    };
  } catch (err) {
    if (err instanceof LoadUsageError) {
      io.err(`carehub-sim load: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let before: Awaited<ReturnType<typeof hubCounters>> | undefined;
  try {
    before = http ? await hubCounters(http) : undefined;
  } catch (err) {
    io.err(`carehub-sim load: --hub-http: ${(err as Error).message}\n`);
    return 1;
  }
  const result = await runLoad(plan, (line) => io.err(`carehub-sim load: ${line}\n`));
  let hub: HubCounters | undefined;
  if (http && before) {
    try {
      const after = await hubCounters(http);
      const rejected: Record<string, number> = {};
      for (const [k, v] of Object.entries(after.rejected)) {
        const d = v - (before.rejected[k] ?? 0);
        if (d > 0) rejected[k] = d;
      }
      hub = {
        accepted: after.accepted - before.accepted,
        duplicates: after.duplicates - before.duplicates,
        rejected,
        health: (await http.health()).status,
      };
    } catch (err) {
      io.err(
        `carehub-sim load: could not read the hub's /metrics after the run: ${(err as Error).message}\n`,
      );
    }
  }
  io.out(
    o.json
      ? `${JSON.stringify(loadResultJson(result, o['hub-mqtt'], hub), null, 2)}\n`
      : formatLoadResult(result, o['hub-mqtt'], hub),
  );
  return loadClean(result, hub) ? 0 : 1;
}

function parseSourceIpsOrThrow(text: string): string[] {
  try {
    return parseSourceIps(text);
  } catch (err) {
    throw new LoadUsageError(`--source-ips: ${(err as Error).message}`);
  }
}

/** The first `n` devices of the configuration that connect on their own (no gateway-mapped ones). */
function devicesOf(file: string, secret: string | undefined, n: number | undefined): LoadDevice[] {
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(file, {});
  } catch (err) {
    const problems = problemsOf(err)
      .slice(0, 10)
      .map((p) => `\n  ${p.path}: ${p.message}`)
      .join('');
    throw new LoadUsageError(`--config: ${(err as Error).message}${problems}`);
  }
  const all: LoadDevice[] = [];
  for (const home of config.homes) {
    for (const d of home.devices) {
      if (d.zigbee || d.kind === 'gateway') continue;
      const s = secret ?? d.demoSecret;
      if (s === undefined) throw new LoadUsageError(`device ${d.id} has no demoSecret: give --secret`);
      all.push({ id: d.id, secret: s, door: d.kind === 'door_sensor' });
    }
  }
  if (n !== undefined && n > all.length) {
    throw new LoadUsageError(
      `--devices ${n}: the configuration has ${all.length} devices (carehub-sim gen-config --homes ${Math.ceil(n / 3)} makes enough)`,
    );
  }
  return n === undefined ? all : all.slice(0, n);
}
