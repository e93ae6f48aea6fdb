import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CAREHUB_BIN = join(ROOT, 'bin', 'carehub.js');

/** This process's environment without CAREHUB_* variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAREHUB_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * `carehub start --config FILE` (the built CLI) as a child process on free ports with `dataDir`,
 * its output kept (the last 20 000 characters). A stale ports.json from a killed hub is removed
 * first, so the caller can wait for the new one. `nodeArgs` go before the script, `logLevel` is
 * CAREHUB_LOG_LEVEL (default warn). `keepPortsFile`: leave ports.json (a second hub on a data dir in use).
 */
export function spawnHubProcess(
  config: string,
  dataDir: string,
  opts: {
    nodeArgs?: string[];
    logLevel?: string;
    env?: Record<string, string>;
    keepPortsFile?: boolean;
  } = {},
): { child: ChildProcess; output: () => string } {
  if (!opts.keepPortsFile) rmSync(join(dataDir, 'ports.json'), { force: true });
  const args = [...(opts.nodeArgs ?? []), CAREHUB_BIN, 'start', '--config', config];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: cleanEnv({
      CAREHUB_MQTT_PORT: '0',
      CAREHUB_HTTP_PORT: '0',
      CAREHUB_DATA_DIR: dataDir,
      CAREHUB_LOG_LEVEL: opts.logLevel ?? 'warn',
      ...opts.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

export interface HubChild {
  child: ChildProcess;
  ports: { mqtt: number; http: number; mqttWs: number };
  httpUrl: string;
  mqttUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * spawnHubProcess, then wait for its ports.json and its /healthz (15 s each); throws with the hub's
 * output when it exits or does not get there. The caller kills the child (it is returned for that).
 */
export async function startHubChild(
  config: string,
  dataDir: string,
  opts: Parameters<typeof spawnHubProcess>[2] & { onSpawn?: (child: ChildProcess) => void } = {},
): Promise<HubChild> {
  const portsFile = join(dataDir, 'ports.json');
  const { child, output } = spawnHubProcess(config, dataDir, opts);
  opts.onSpawn?.(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let ports: HubChild['ports'] | undefined;
  for (let i = 0; i < 300 && !ports; i++) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the hub exited while starting:\n${output()}`);
    if (existsSync(portsFile)) {
      try {
        ports = JSON.parse(readFileSync(portsFile, 'utf8')) as HubChild['ports'];
      } catch {
        // being written
      }
    }
    if (!ports) await sleep(50);
  }
  if (!ports) throw new Error(`no ports.json within 15 s:\n${output()}`);
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${httpUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i >= 100) throw new Error(`/healthz did not answer:\n${output()}`);
    await sleep(50);
  }
  return { child, ports, httpUrl, mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`, exited, output };
}
