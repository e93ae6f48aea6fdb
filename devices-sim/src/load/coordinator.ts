import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../../hub/src/package-root.js';
import { Histogram } from './histogram.js';
import type { LoadDevice, WorkerJob, WorkerMessage, WorkerStats } from './protocol.js';

export interface LoadPlan {
  host: string;
  port: number;
  devices: LoadDevice[];
  processes: number;
  heartbeatMs: number;
  rate: number;
  durationMs: number;
  connectStormMs: number;
  /** Connects under way at once, over all workers (without a storm window). */
  connectConcurrency: number;
  sourceIps: string[];
}

export interface LoadResult {
  plan: Omit<LoadPlan, 'devices'> & { devices: number };
  workers: WorkerStats[];
  /** Workers that died or failed, with why. */
  failures: string[];
  connected: number;
  connectFailures: Record<string, number>;
  connectPhaseMs: number;
  connectLatency: Histogram;
  heartbeats: number;
  events: number;
  acked: number;
  puback: Histogram;
  errors: Record<string, number>;
  /** Achieved rates over the traffic phase, summed over the workers (messages per second). */
  rates: { heartbeats: number; events: number; acked: number };
  wallMs: number;
}

/** Beyond the run's own length, how long a worker may take (connects, drain, exit) before it is stopped. */
const GRACE_MS = 120_000;

/** The worker module beside this one: compiled JS, or TypeScript run through tsx (tests, tsx). */
function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  return {
    file: join(dirname(here), ts ? 'worker.ts' : 'worker.js'),
    execArgv: ts ? ['--import', 'tsx'] : [],
  };
}

/** Split the devices over `processes` worker processes, run them, and add up what they measured. */
export async function runLoad(
  plan: LoadPlan,
  onProgress: (line: string) => void = () => {},
): Promise<LoadResult> {
  const started = Date.now();
  const runId = `L${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const per = Math.ceil(plan.devices.length / plan.processes);
  const entry = workerEntry();
  const progress = new Map<number, { connected: number; acked: number; phase: string }>();
  const failures: string[] = [];
  const children: ChildProcess[] = [];
  const limitMs = plan.durationMs + Math.max(plan.connectStormMs, 0) + GRACE_MS + plan.devices.length * 5;
  const report = setInterval(() => {
    let connected = 0;
    let acked = 0;
    for (const p of progress.values()) {
      connected += p.connected;
      acked += p.acked;
    }
    onProgress(
      `${((Date.now() - started) / 1000).toFixed(0)} s: ${connected}/${plan.devices.length} connected, ${acked} PUBACKs`,
    );
  }, 5000);
  const runs: Array<Promise<WorkerStats | undefined>> = [];
  for (let w = 0; w < plan.processes; w++) {
    const devices = plan.devices.slice(w * per, (w + 1) * per);
    if (devices.length === 0) continue;
    const job: WorkerJob = {
      type: 'job',
      worker: w,
      host: plan.host,
      port: plan.port,
      devices,
      heartbeatMs: plan.heartbeatMs,
      rate: (plan.rate * devices.length) / plan.devices.length,
      durationMs: plan.durationMs,
      connectStormMs: plan.connectStormMs,
      connectConcurrency: Math.max(1, Math.floor(plan.connectConcurrency / plan.processes)),
      sourceIps: plan.sourceIps,
      runId,
    };
    const child = fork(entry.file, [], {
      cwd: packageRoot(),
      execArgv: entry.execArgv,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child);
    runs.push(
      new Promise((resolve) => {
        let stats: WorkerStats | undefined;
        const timer = setTimeout(() => {
          failures.push(`worker ${w}: still running after ${Math.round(limitMs / 1000)} s; stopped`);
          child.kill('SIGKILL');
        }, limitMs);
        child.on('message', (m: WorkerMessage) => {
          if (m.type === 'progress') progress.set(m.worker, m);
          else if (m.type === 'done') stats = m.stats;
          else failures.push(`worker ${m.worker}: ${m.message}`);
        });
        child.on('error', (err) => failures.push(`worker ${w}: ${err.message}`));
        child.on('exit', (code, signal) => {
          clearTimeout(timer);
          if (!stats && code !== 0) failures.push(`worker ${w}: exited with ${signal ?? code}`);
          resolve(stats);
        });
        child.send(job);
      }),
    );
  }
  let workers: WorkerStats[];
  try {
    workers = (await Promise.all(runs)).filter((s): s is WorkerStats => s !== undefined);
  } finally {
    clearInterval(report);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  return aggregate(plan, workers, failures, Date.now() - started);
}

function addInto(target: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) target[k] = (target[k] ?? 0) + v;
}

function aggregate(plan: LoadPlan, workers: WorkerStats[], failures: string[], wallMs: number): LoadResult {
  const connectLatency = new Histogram();
  const puback = new Histogram();
  const connectFailures: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const rates = { heartbeats: 0, events: 0, acked: 0 };
  let connected = 0;
  let heartbeats = 0;
  let events = 0;
  let acked = 0;
  let connectPhaseMs = 0;
  for (const w of workers) {
    connectLatency.merge(w.connectLatency);
    puback.merge(w.puback);
    addInto(connectFailures, w.connectFailures);
    addInto(errors, w.errors);
    connected += w.connected;
    heartbeats += w.heartbeats;
    events += w.events;
    acked += w.acked;
    connectPhaseMs = Math.max(connectPhaseMs, w.connectPhaseMs);
    const s = Math.max(0.001, w.trafficMs / 1000);
    rates.heartbeats += w.heartbeats / s;
    rates.events += w.events / s;
    rates.acked += w.acked / s;
  }
  const { devices, ...rest } = plan;
  return {
    plan: { ...rest, devices: devices.length },
    workers,
    failures,
    connected,
    connectFailures,
    connectPhaseMs,
    connectLatency,
    heartbeats,
    events,
    acked,
    puback,
    errors,
    rates,
    wallMs,
  };
}
