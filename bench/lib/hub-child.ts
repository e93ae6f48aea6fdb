import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PRODUCTION_NODE_FLAGS } from '../../hub/src/node-flags.js';
import { stopChild, track } from './children.js';
import { monoMs, waitFor } from './proc.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface HubChild {
  pid: number;
  mqttPort: number;
  httpPort: number;
  mqttUrl: string;
  httpUrl: string;
  wsUrl: string;
  /** Spawn → ports.json written (the hub accepts connections), ms. */
  startMs: number;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The built CLI must exist and be newer than the sources it runs, or the figures describe old code. */
export function checkBuild(): string | undefined {
  const cli = join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) return 'dist/ is missing: run `npm run build` first';
  const built = statSync(join(ROOT, 'dist', 'hub', 'src', 'main.js')).mtimeMs;
  // Files of this build and of older ones (an A/B run with CAREHUB_BENCH_ROOT): those present are checked.
  for (const f of [
    'store/journal.ts',
    'ingest/journal.ts',
    'ingest/ingest.ts',
    'core/state-machine.ts',
    'ingest/processor.ts',
    'broker/broker.ts',
    'main.ts',
  ]) {
    if (!existsSync(join(ROOT, 'hub', 'src', f))) continue;
    if (statSync(join(ROOT, 'hub', 'src', f)).mtimeMs > built + 1000)
      return `hub/src/${f} is newer than dist/: run \`npm run build\``;
  }
  return undefined;
}

/**
 * The hub as a separate process, exactly as deployed: `node <PRODUCTION_NODE_FLAGS> bin/carehub.js
 * start --config FILE` with free ports (CAREHUB_MQTT_PORT=0, CAREHUB_HTTP_PORT=0); the ports come
 * from ports.json in its data dir. Logs go to a file next to the data dir.
 */
export async function startHub(opts: {
  configFile: string;
  dataDir: string;
  logFile: string;
  cpuProfDir?: string | undefined;
  nodeArgs?: string[];
  timeoutMs?: number;
  /** Extra environment (a cluster node: CAREHUB_NATS_URL, CAREHUB_NODE_ID). */
  env?: Record<string, string>;
}): Promise<HubChild> {
  const portsFile = join(opts.dataDir, 'ports.json');
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = openSync(opts.logFile, 'a');
  const args = [
    // As deployed (Dockerfile, systemd unit): the same V8 options.
    ...PRODUCTION_NODE_FLAGS,
    ...(opts.nodeArgs ?? []),
    // CAREHUB_BENCH_HUB_ARGS: extra node options for the hub (diagnostics, e.g. --import a probe).
    ...(process.env.CAREHUB_BENCH_HUB_ARGS?.split(' ').filter(Boolean) ?? []),
    ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
    // CAREHUB_BENCH_ROOT: run another build of the hub (a checkout with its own dist/) for A/B runs.
    join(process.env.CAREHUB_BENCH_ROOT ?? ROOT, 'bin', 'carehub.js'),
    'start',
    '--config',
    opts.configFile,
  ];
  const t0 = monoMs();
  const child = track(
    spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        CAREHUB_MQTT_PORT: '0',
        CAREHUB_HTTP_PORT: '0',
        CAREHUB_DATA_DIR: opts.dataDir,
        ...opts.env,
      },
      stdio: ['ignore', log, log],
    }),
  );
  const ports = await waitFor(
    'the hub to write ports.json',
    () => {
      if (child.exitCode !== null) throw new Error(`hub exited with ${child.exitCode}; see ${opts.logFile}`);
      if (!existsSync(portsFile)) return undefined;
      try {
        return JSON.parse(readFileSync(portsFile, 'utf8')) as { mqtt: number; http: number };
      } catch {
        return undefined;
      }
    },
    opts.timeoutMs ?? 120_000,
    5,
  );
  const startMs = monoMs() - t0;
  if (child.pid === undefined) throw new Error('hub did not start');
  return {
    pid: child.pid,
    mqttPort: ports.mqtt,
    httpPort: ports.http,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    wsUrl: `ws://127.0.0.1:${ports.http}`,
    startMs,
    logFile: opts.logFile,
    child,
    // SIGTERM lets the hub stop cleanly (and write its CPU profile); generous grace for a big WAL.
    stop: () => stopChild(child, 30_000),
  };
}

export async function hubHealth(httpUrl: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${httpUrl}/healthz`);
  return (await res.json()) as Record<string, unknown>;
}
