import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { metricSum } from '../../devices-sim/src/util/prometheus.js';
import type { Ctx } from '../lib/context.js';
import { startHub } from '../lib/hub-child.js';
import { CpuMeter, monoMs, rssBytes, sleep } from '../lib/proc.js';
import { openSession, type Session } from '../lib/session.js';
import { BENCH_SCRYPT_N, generateSite } from '../lib/site.js';
import { round, summarize } from '../lib/stats.js';

export interface SoakParams {
  minutes: number;
  devices: number;
  generators: number;
  /** Every device's heartbeat interval. */
  heartbeatMs: number;
  /** Events per second beside the heartbeats (open loop), or 'max' (closed loop, as scenario 1). */
  rate: number | 'max';
  /** Closed loop: messages in flight over all generators. */
  window: number;
  sampleMs: number;
  /** The figure's target: the WAL file never larger than this. */
  walBoundMB: number;
  /** Safety stop: a WAL past this ends the load early (the build before the fix grows it without end). */
  walCapMB: number;
  /** An SOS press every this many ms on average, the whole run. */
  probeEveryMs: number;
}

export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  walMB: number;
  dbMB: number;
  rssMB: number;
  heapUsedMB: number | null;
  heapTotalMB: number | null;
  externalMB: number | null;
  acked: number;
  through: number;
}

interface Slope {
  perMinute: number;
  /** Standard error of the slope. */
  stderr: number;
}

export interface SoakResult {
  minutes: number;
  offered: string;
  devices: number;
  ackedPerSecond: number;
  failed: number;
  samples: SoakSample[];
  walMaxMB: number;
  /** Last half of the run, per minute. */
  slopes: { walMB: Slope; dbMB: Slope; rssMB: Slope; heapUsedMB: Slope | null };
  sos: { all: ReturnType<typeof summarize>; duringResets: ReturnType<typeof summarize>; lost: number };
  /** WAL restarts seen in its header (sampled every second). */
  walResets: number;
  /** The hub's own record of how long journal commits waited for a checkpoint (null: not in this build). */
  checkpointPause: { count: number; sumMs: number; overMs: Record<string, number> } | null;
  cores: number;
  stoppedEarly: string | null;
  restart: { ms: number; walMBBefore: number; dbMBBefore: number; journalRows: number | null };
}

const MB = 2 ** 20;
const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);

/** The WAL header's checkpoint sequence number: it goes up each time the WAL restarts (any build). */
function walSequence(file: string): number | undefined {
  const header = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return readSync(fd, header, 0, 16, 0) === 16 ? header.readUInt32BE(12) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Least-squares slope of y over t (seconds), per minute, with its standard error. */
export function slope(points: Array<[number, number]>): Slope {
  const n = points.length;
  if (n < 3) return { perMinute: Number.NaN, stderr: Number.NaN };
  const mt = points.reduce((a, [t]) => a + t, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [t, y] of points) {
    sxx += (t - mt) ** 2;
    sxy += (t - mt) * (y - my);
  }
  const b = sxy / sxx;
  let sse = 0;
  for (const [t, y] of points) sse += (y - (my + b * (t - mt))) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return { perMinute: b * 60, stderr: se * 60 };
}

async function metricsText(httpUrl: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** A metric's value, or null when the build does not export it. */
function metric(text: string | undefined, name: string, labels: Record<string, string> = {}): number | null {
  if (!text || !new RegExp(`^${name}[ {]`, 'm').test(text)) return null;
  return metricSum(text, name, labels);
}

/**
 * 7. Soak: the hub under sustained load for `minutes` (open loop: every device's heartbeat plus a
 * fixed event rate, or closed loop), with SOS presses the whole time. Every second the WAL file's
 * size (the figure with a bound) and the hub's checkpoint counters; every `sampleMs` WAL, database,
 * RSS and V8 heap. At the end the hub is killed with SIGKILL under load and started again on its
 * data: the time until it listens again includes WAL recovery and the journal replay.
 */
export async function soakScenario(ctx: Ctx, p: SoakParams): Promise<void> {
  const site = await generateSite({
    dir: join(ctx.tmp, 'site-soak'),
    loadDevices: p.devices,
    scryptN: BENCH_SCRYPT_N,
  });
  const dir = join(ctx.tmp, 'soak');
  const wal = join(site.dataDir, 'hub.db-wal');
  const db = join(site.dataDir, 'hub.db');
  const offered =
    p.rate === 'max'
      ? `closed loop, ${p.window} in flight`
      : `${p.devices} devices x heartbeat ${p.heartbeatMs / 1000} s + ${p.rate} events/s = ${Math.round(p.devices / (p.heartbeatMs / 1000) + p.rate)} QoS 1 msg/s`;
  ctx.log(`[7] soak: ${p.minutes} min, ${offered}`);
  const s: Session = await openSession({
    kind: 'hub',
    site,
    dir,
    loadDevices: p.devices,
    generators: p.generators,
    connectPerSecond: 1000,
    log: ctx.log,
  });
  const hub = s.hub;
  if (!hub) throw new Error('soak: no hub');
  let result: SoakResult;
  try {
    if (p.rate === 'max') {
      await Promise.all(
        s.workers.map((w) => w.load({ mode: 'closed', window: Math.ceil(p.window / s.workers.length) })),
      );
    } else {
      const per = p.rate / s.workers.length;
      await Promise.all(s.workers.map((w) => w.heartbeats(p.heartbeatMs)));
      if (per > 0)
        await Promise.all(
          s.workers.map((w) => w.load({ mode: 'rate', perSecond: per, maxInflight: Math.max(200, per) })),
        );
    }
    result = await run(ctx, s, p, { wal, db, offered });
  } catch (err) {
    await s.close();
    throw err;
  }
  // Crash under load, then start again on the same data.
  const walBefore = size(wal) / MB;
  const dbBefore = size(db) / MB;
  const exited = new Promise<void>((resolve) => hub.child.once('exit', () => resolve()));
  hub.child.kill('SIGKILL');
  await exited;
  await s.close();
  rmSync(join(site.dataDir, 'ports.json'), { force: true });
  const again = await startHub({
    configFile: site.configFile,
    dataDir: site.dataDir,
    logFile: join(dir, 'hub-restart.log'),
  });
  let journalRows: number | null = null;
  try {
    const h = (await (await fetch(`${again.httpUrl}/healthz`)).json()) as {
      checks: { journal: { lastSeq: number } };
    };
    journalRows = h.checks.journal.lastSeq;
  } finally {
    await again.stop();
  }
  result.restart = {
    ms: round(again.startMs, 0),
    walMBBefore: round(walBefore, 1),
    dbMBBefore: round(dbBefore, 1),
    journalRows,
  };
  ctx.log(
    `  restart after kill -9: ${result.restart.ms} ms (WAL ${result.restart.walMBBefore} MB, database ${result.restart.dbMBBefore} MB)`,
  );
  report(ctx, p, result);
}

async function run(
  ctx: Ctx,
  s: Session,
  p: SoakParams,
  files: { wal: string; db: string; offered: string },
): Promise<SoakResult> {
  const hub = s.hub as NonNullable<Session['hub']>;
  const samples: SoakSample[] = [];
  const presses: Array<{ at: number; latency: number }> = [];
  let lost = 0;
  const resetSeconds: Array<[number, number]> = [];
  let walMax = 0;
  let stoppedEarly: string | null = null;
  const t0 = monoMs();
  const end = t0 + p.minutes * 60_000;
  const a0 = (await s.counters()).acked;
  const cpu = new CpuMeter(s.pid).start();

  // SOS presses the whole run, one device at a time per probe home, timed send -> feed.
  let probing = true;
  const inflight = new Set<Promise<void>>();
  const prober = (async () => {
    const busy = new Set<number>();
    let i = 0;
    while (probing) {
      const index = i++ % s.probes.devs.length;
      if (!busy.has(index)) {
        busy.add(index);
        const dev = s.probes.devs[index] as { id: string };
        const sent = s.probes.send(index, 'sos.pressed');
        const key = s.watcher.keyFor('sos', dev.id, sent.eventId);
        sent.acked.catch(() => {});
        const w: Promise<void> = s.watcher.wait(key, 10_000).then(
          (at) => {
            presses.push({ at: sent.at, latency: at - sent.at });
          },
          () => {
            lost++;
          },
        );
        const tracked = w.finally(() => {
          busy.delete(index);
          inflight.delete(tracked);
        });
        inflight.add(tracked);
      }
      await sleep(p.probeEveryMs * (0.5 + Math.random()));
    }
  })();

  let lastSeq: number | undefined;
  let resets = 0;
  let lastPoll = monoMs();
  let nextSample = t0;
  while (monoMs() < end) {
    const now = monoMs();
    const walNow = size(files.wal);
    walMax = Math.max(walMax, walNow);
    const text = now >= nextSample ? await metricsText(hub.httpUrl) : undefined;
    const seq = walSequence(files.wal);
    if (seq !== undefined) {
      if (lastSeq !== undefined && seq !== lastSeq) {
        resetSeconds.push([lastPoll, now]);
        resets += (seq - lastSeq) >>> 0;
      }
      lastSeq = seq;
    }
    lastPoll = now;
    if (now >= nextSample) {
      nextSample += p.sampleMs;
      const c = await s.counters();
      const sample: SoakSample = {
        t: round((now - t0) / 1000, 0),
        walMB: round(walNow / MB, 1),
        dbMB: round(size(files.db) / MB, 1),
        rssMB: round(rssBytes(s.pid) / MB, 1),
        heapUsedMB: nullableMB(metric(text, 'carehub_nodejs_heap_size_used_bytes')),
        heapTotalMB: nullableMB(metric(text, 'carehub_nodejs_heap_size_total_bytes')),
        externalMB: nullableMB(metric(text, 'carehub_nodejs_external_memory_bytes')),
        acked: c.acked - a0,
        through: await s.forwarded(),
      };
      samples.push(sample);
      ctx.log(
        `  t=${sample.t}s WAL ${sample.walMB} MB db ${sample.dbMB} MB RSS ${sample.rssMB} MB heap ${sample.heapUsedMB}/${sample.heapTotalMB} MB acked ${sample.acked} WAL restarts ${resets}`,
      );
    }
    if (walNow > p.walCapMB * MB) {
      stoppedEarly = `WAL passed the soak's safety cap of ${p.walCapMB} MB at ${round((now - t0) / 60_000, 1)} min`;
      ctx.log(`  ${stoppedEarly}: ending the load`);
      break;
    }
    await sleep(Math.max(0, 1000 - (monoMs() - now)));
  }
  probing = false;
  await prober;
  await Promise.all(inflight);
  const used = cpu.read();
  const c1 = await s.counters();
  const text = await metricsText(hub.httpUrl);
  const pauseCount = metric(text, 'carehub_store_checkpoint_pause_seconds_count');
  let checkpointPause: SoakResult['checkpointPause'] = null;
  if (pauseCount !== null) {
    const overMs: Record<string, number> = {};
    for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1']) {
      const within = metric(text, 'carehub_store_checkpoint_pause_seconds_bucket', { le }) ?? 0;
      overMs[String(Number(le) * 1000)] = pauseCount - within;
    }
    checkpointPause = {
      count: pauseCount,
      sumMs: round((metric(text, 'carehub_store_checkpoint_pause_seconds_sum') ?? 0) * 1000, 1),
      overMs,
    };
  }
  const half = samples.filter((x) => x.t >= (samples.at(-1)?.t ?? 0) / 2);
  const heap = half.filter((x) => x.heapUsedMB !== null);
  const inReset = presses.filter((x) => resetSeconds.some(([a, b]) => x.at > a && x.at <= b));
  const minutes = used.wallMs / 60_000;
  return {
    minutes: round(minutes, 1),
    offered: files.offered,
    devices: (await s.counters()).connected,
    ackedPerSecond: round((c1.acked - a0) / (used.wallMs / 1000), 0),
    failed: c1.failed,
    samples,
    walMaxMB: round(walMax / MB, 1),
    slopes: {
      walMB: slope(half.map((x) => [x.t, x.walMB])),
      dbMB: slope(half.map((x) => [x.t, x.dbMB])),
      rssMB: slope(half.map((x) => [x.t, x.rssMB])),
      heapUsedMB: heap.length >= 3 ? slope(heap.map((x) => [x.t, x.heapUsedMB as number])) : null,
    },
    sos: {
      all: summarize(presses.map((x) => x.latency)),
      duringResets: summarize(inReset.map((x) => x.latency)),
      lost,
    },
    walResets: resets,
    checkpointPause,
    cores: round(used.cores, 2),
    stoppedEarly,
    restart: { ms: 0, walMBBefore: 0, dbMBBefore: 0, journalRows: null },
  };
}

const nullableMB = (v: number | null) => (v === null ? null : round(v / MB, 1));
const fmtSlope = (x: Slope | null, unit = 'MB/min') =>
  x ? `${round(x.perMinute, 3)} ± ${round(x.stderr, 3)} ${unit}` : '-';

function report(ctx: Ctx, p: SoakParams, r: SoakResult): void {
  ctx.details.soak = { params: p, hub: r };
  const rss = r.slopes.rssMB;
  // "Within noise of zero": two standard errors, or under 0.05 MB a minute (3 MB an hour).
  const rssFlat = Math.abs(rss.perMinute) <= Math.max(2 * rss.stderr, 0.05);
  const row = (name: string, unit: string, hub: number | string | null, extra: object = {}) =>
    ctx.figures.push({ scenario: '7', name, unit, hub, reference: null, referenceName: '-', ...extra });
  row(
    `soak ${r.minutes} min: ${r.offered}; acked/s (failed ${r.failed})${r.stoppedEarly ? `; ${r.stoppedEarly}` : ''}`,
    'msg/s',
    r.ackedPerSecond,
  );
  row(`largest WAL file (sampled every second); WAL restarts ${r.walResets}`, 'MB', r.walMaxMB, {
    target: `< ${p.walBoundMB}`,
    met: r.walMaxMB < p.walBoundMB && !r.stoppedEarly,
  });
  row(
    'WAL / database size at the end',
    'MB',
    `${r.samples.at(-1)?.walMB ?? '-'} / ${r.samples.at(-1)?.dbMB ?? '-'}`,
  );
  row(
    'slope over the last half: WAL / database',
    'MB/min',
    `${fmtSlope(r.slopes.walMB, '')} / ${fmtSlope(r.slopes.dbMB, '')}`,
  );
  row(
    'slope over the last half: RSS / V8 heap used',
    'MB/min',
    `${fmtSlope(rss, '')} / ${fmtSlope(r.slopes.heapUsedMB, '')}`,
    {
      target: 'RSS within noise of 0',
      met: rssFlat,
    },
  );
  row(
    `RSS at the first / last sample (V8 heap used ${r.samples[0]?.heapUsedMB ?? '-'} / ${r.samples.at(-1)?.heapUsedMB ?? '-'} MB)`,
    'MB',
    `${r.samples[0]?.rssMB ?? '-'} / ${r.samples.at(-1)?.rssMB ?? '-'}`,
  );
  const sos = r.sos.all;
  const during = r.sos.duringResets;
  row(
    `SOS publish -> feed p50/p99/max, whole run (${sos.n} presses, lost ${r.sos.lost})`,
    'ms',
    `${round(sos.p50)} / ${round(sos.p99)} / ${round(sos.max)}`,
  );
  row(
    `SOS p50/p99/max in the seconds with a WAL restart (${during.n} presses)`,
    'ms',
    during.n ? `${round(during.p50)} / ${round(during.p99)} / ${round(during.max)}` : null,
  );
  if (r.checkpointPause)
    row(
      `journal paused for checkpoints: ${r.checkpointPause.count} pauses, over 10 / 25 / 50 ms: ${r.checkpointPause.overMs['10']} / ${r.checkpointPause.overMs['25']} / ${r.checkpointPause.overMs['50']}`,
      'ms total',
      r.checkpointPause.sumMs,
    );
  row(
    `restart after kill -9 under load: spawn -> listening (WAL ${r.restart.walMBBefore} MB, database ${r.restart.dbMBBefore} MB)`,
    'ms',
    r.restart.ms,
    { target: '< 3000', met: r.restart.ms < 3000 },
  );
}
