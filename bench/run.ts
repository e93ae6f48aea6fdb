/**
 * CareHub benchmarks: `npm run bench` (full) or `npm run bench -- --quick` (every scenario scaled
 * down, under 3 minutes). The hub runs as a separate process (`node bin/carehub.js start`, so build
 * first), load comes from generator processes, and every figure is measured in the same run against
 * a reference, Mosquitto 2 under the same generators. Prints a table and writes
 * bench/results/latest.json.
 *
 * Options: --quick, --only=ingest,latency,storms,cold,connections,startup,micro,soak,cluster,admin, --profile (hub CPU
 * profiles into the temp dir, kept), --keep (keep the temp dir), --out=FILE, --devices=N and
 * --seconds=S (load devices of scenarios 1/2/4/9 and the ingest window, to profile one figure),
 * --levels=0,5000,10000 (background events/s of scenario 2), --merge (replace only the figures of
 * the scenarios run in an existing results file, keeping the others; `runs` records both),
 * --hub-only (skip the Mosquitto runs: for profiling and A/B runs of two hub builds, with
 * CAREHUB_BENCH_ROOT=<checkout with a built dist/> selecting the other build), --minutes=M and
 * --rate=N|max (scenario 7, the soak: its length, and the events/s beside heartbeats or a closed loop).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { killAll } from './lib/children.js';
import type { Ctx } from './lib/context.js';
import { checkBuild, ROOT } from './lib/hub-child.js';
import { machineInfo } from './lib/machine.js';
import { mergeResults, type Results, table, writeResults } from './lib/results.js';
import { adminScenario } from './scenarios/admin.js';
import { brokerScenarios } from './scenarios/broker.js';
import { clusterScenario } from './scenarios/cluster.js';
import { coldScenario } from './scenarios/cold-admission.js';
import { connectionsScenario } from './scenarios/connections.js';
import { microScenarios } from './scenarios/micro.js';
import { PARAMS } from './scenarios/params.js';
import { soakScenario } from './scenarios/soak.js';
import { startupScenario } from './scenarios/startup.js';

const ALL = [
  'ingest',
  'latency',
  'storms',
  'cold',
  'connections',
  'startup',
  'micro',
  'soak',
  'cluster',
  'admin',
];
const SCENARIO: Record<string, string> = {
  ingest: '1',
  latency: '2',
  connections: '3',
  storms: '4',
  cold: '4c',
  startup: '5',
  micro: '6',
  soak: '7',
  cluster: '8',
  admin: '9',
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      out: { type: 'string' },
      devices: { type: 'string' },
      'hub-only': { type: 'boolean', default: false },
      seconds: { type: 'string' },
      levels: { type: 'string' },
      merge: { type: 'boolean', default: false },
      minutes: { type: 'string' },
      rate: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const only = new Set((values.only ?? ALL.join(',')).split(',').map((s) => s.trim()));
  for (const o of only)
    if (!ALL.includes(o)) throw new Error(`unknown scenario "${o}" (choose from ${ALL.join(', ')})`);
  const stale = checkBuild();
  if (stale?.startsWith('dist/ is missing')) {
    process.stderr.write(`bench: ${stale}\n`);
    return 1;
  }
  const started = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'carehub-bench-'));
  const t0 = Date.now();
  const ctx: Ctx = {
    quick,
    tmp,
    profile: values.profile ?? false,
    hubOnly: values['hub-only'] ?? false,
    log: (msg) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`),
    figures: [],
    details: {},
    notes: [
      'Each figure is measured in the same run as its reference (Mosquitto 2 under the same generators, or the named baseline), on a shared 2-core machine: compare ratios, not absolute values.',
    ],
  };
  if (stale) {
    process.stderr.write(`bench: WARNING ${stale}\n`);
    ctx.notes.push(`WARNING: ${stale} (the hub process runs dist/)`);
  }
  const machine = machineInfo();
  const p = structuredClone(quick ? PARAMS.quick : PARAMS.full);
  // Overrides for profiling one figure: --devices (scenarios 1, 2, 4, 9), --seconds (ingest window).
  if (values.devices) p.broker.loadDevices = p.admin.loadDevices = Number(values.devices);
  if (values.seconds) p.broker.ingest.durationMs = Number(values.seconds) * 1000;
  if (values.levels) p.broker.latency.levels = values.levels.split(',').map(Number);
  if (values.minutes) p.soak.minutes = Number(values.minutes);
  if (values.rate) p.soak.rate = values.rate === 'max' ? 'max' : Number(values.rate);
  ctx.log(
    `CareHub bench (${quick ? 'quick' : 'full'}): ${machine.cores} x ${machine.cpuModel}, Node ${machine.node}, ${machine.mosquitto}; temp ${tmp}`,
  );
  const steps: Array<[string, () => Promise<void>]> = [];
  const broker = ['ingest', 'latency', 'storms'].filter((s) => only.has(s));
  if (broker.length) steps.push(['ingest/latency/storms', () => brokerScenarios(ctx, p.broker, only)]);
  if (only.has('cold')) steps.push(['cold admission', () => coldScenario(ctx, p.cold)]);
  if (only.has('connections')) steps.push(['connections', () => connectionsScenario(ctx, p.connections)]);
  if (only.has('startup')) steps.push(['startup', () => startupScenario(ctx, p.startup)]);
  if (only.has('micro')) steps.push(['micro', () => microScenarios(ctx, p.micro)]);
  if (only.has('soak')) steps.push(['soak', () => soakScenario(ctx, p.soak)]);
  if (only.has('cluster')) steps.push(['cluster', () => clusterScenario(ctx, p.cluster)]);
  if (only.has('admin')) steps.push(['admin', () => adminScenario(ctx, p.admin)]);
  let failed = false;
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      failed = true;
      ctx.log(`${name}: FAILED ${(err as Error).stack ?? err}`);
      ctx.notes.push(`${name} failed: ${(err as Error).message}`);
    }
  }
  killAll();
  const scenarios = [...only].map((s) => SCENARIO[s] as string);
  const fresh: Results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    figures: ctx.figures,
    details: ctx.details,
    notes: ctx.notes,
    runs: [
      {
        date: new Date().toISOString(),
        mode: quick ? 'quick' : 'full',
        scenarios,
        durationSeconds: Math.round((performance.now() - started) / 1000),
        loadAverageAtStart: machine.loadAverageAtStart,
      },
    ],
  };
  const out = values.out ?? join(ROOT, 'bench', 'results', 'latest.json');
  const results =
    values.merge && existsSync(out)
      ? mergeResults(JSON.parse(readFileSync(out, 'utf8')) as Results, fresh, scenarios)
      : fresh;
  writeResults(out, results);
  process.stdout.write(`\n${table(ctx.figures)}\n\n`);
  for (const n of ctx.notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(`\n${results.durationSeconds} s; results in ${out}\n`);
  if (values.keep || ctx.profile) process.stdout.write(`temp dir kept: ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    killAll();
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
