import { join } from 'node:path';
import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { type HubChild, startHub } from '../lib/hub-child.js';
import { type Mosquitto, startMosquitto } from '../lib/mosquitto.js';
import { FeedWatcher, login, MqttWatcher, Publishers, probeSos, type Watcher } from '../lib/probe.js';
import { openFiles, rssBytes, sleep } from '../lib/proc.js';
import type { TargetKind } from '../lib/session.js';
import { BENCH_SCRYPT_N, generateSite, type Site } from '../lib/site.js';
import { round, summarize } from '../lib/stats.js';
import { connectDevices, sumCounters, Worker } from '../lib/workers.js';

export interface ConnectionsParams {
  maxDevices: number;
  step: number;
  generators: number;
  connectPerSecond: number;
  probeMs: number;
  /** Hold at the top so every device has sent at least one 60 s heartbeat before the final RSS. */
  holdMs: number;
}

interface Step {
  devices: number;
  rssMB: number;
  openFiles: number;
  sosP50: number;
  sosP99: number;
  sosLost: number;
  failed: number;
}

interface ConnResult {
  /** Configured devices (all homes of the site), connected or not. */
  configured: number;
  baseRssMB: number;
  /** V8 heap in use (hub /metrics), idle and at the final count. */
  baseHeapMB: number | null;
  finalHeapMB: number | null;
  steps: Step[];
  held: number;
  final: Step;
  perConnectionKB: number;
  errors: Record<string, number>;
  stoppedBecause: string;
}

/**
 * 3. Connections: devices connect in steps (announce, subscribe, 60 s heartbeats, as installed
 * devices do) while SOS presses are timed on the feed; stop at the open-file limit, at the first
 * refused connection, or when feed p99 reaches 100 ms. RSS per connection is the growth from the
 * idle broker (probe devices only) to the final count, after every device has sent a heartbeat.
 */
async function measure(ctx: Ctx, kind: TargetKind, site: Site, p: ConnectionsParams): Promise<ConnResult> {
  const dir = join(ctx.tmp, `conn-${kind}`);
  let hub: HubChild | undefined;
  let mosq: Mosquitto | undefined;
  let watcher: Watcher | undefined;
  let probes: Publishers | undefined;
  const workers: Worker[] = [];
  try {
    if (kind === 'hub')
      hub = await startHub({
        configFile: site.configFile,
        dataDir: site.dataDir,
        logFile: join(dir, 'hub.log'),
      });
    else mosq = await startMosquitto(dir, site.allIds, site.secret);
    const pid = hub?.pid ?? mosq?.pid ?? 0;
    const port = hub?.mqttPort ?? mosq?.port ?? 0;
    watcher = hub
      ? await FeedWatcher.connect(
          hub.wsUrl,
          await login(hub.httpUrl, site.staff.username, site.staff.password),
        )
      : await MqttWatcher.connect(port, site.probeIds);
    probes = await Publishers.connect(port, site.probeIds, site.secret);
    await sleep(2000);
    const baseRss = rssBytes(pid);
    const baseHeap = hub ? await heapUsedMB(hub.httpUrl) : null;
    for (let g = 0; g < p.generators; g++) workers.push(new Worker(`conn${g}`));
    const steps: Step[] = [];
    const errors: Record<string, number> = {};
    let done = 0;
    let stoppedBecause = `reached ${p.maxDevices} devices (the bench maximum under the 20 000 open-file limit)`;
    const measureStep = async (devices: number, failed: number): Promise<Step> => {
      const probe = await probeSos(probes as Publishers, watcher as Watcher, p.probeMs, 100);
      const lat = summarize(probe.latencies);
      return {
        devices,
        rssMB: round(rssBytes(pid) / 2 ** 20, 1),
        openFiles: openFiles(pid),
        sosP50: round(lat.p50),
        sosP99: round(lat.p99),
        sosLost: probe.lost,
        failed,
      };
    };
    let heartbeats = false;
    while (done < p.maxDevices) {
      const n = Math.min(p.step, p.maxDevices - done);
      const ids = site.loadIds.slice(done, done + n);
      const results = await connectDevices(workers, {
        port,
        ids,
        secret: site.secret,
        perSecond: p.connectPerSecond,
      });
      done += n;
      const failed = results.reduce((a, r) => a + r.failed, 0);
      for (const r of results)
        for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
      if (!heartbeats) {
        await Promise.all(workers.map((w) => w.heartbeats(60_000)));
        heartbeats = true;
      }
      await sleep(1000);
      const held = sumCounters(await Promise.all(workers.map((w) => w.stats()))).connected;
      const step = await measureStep(held, failed);
      steps.push(step);
      ctx.log(
        `  ${kind} connections: ${held} held, RSS ${step.rssMB} MB, fds ${step.openFiles}, SOS p99 ${step.sosP99} ms${failed ? `, ${failed} refused ${JSON.stringify(errors)}` : ''}`,
      );
      if (failed > 0) {
        stoppedBecause = `connections refused at ${held}: ${JSON.stringify(errors)}`;
        break;
      }
      if (step.sosP99 >= 100) {
        stoppedBecause = `feed p99 ${step.sosP99} ms >= 100 ms at ${held}`;
        break;
      }
    }
    // Hold with heartbeats running, so every device has been seen (state, timers) before the final figure.
    await sleep(p.holdMs);
    const held = sumCounters(await Promise.all(workers.map((w) => w.stats()))).connected;
    const final = await measureStep(held, 0);
    ctx.log(
      `  ${kind} connections after ${p.holdMs / 1000} s hold: ${held} held, RSS ${final.rssMB} MB, SOS p99 ${final.sosP99} ms`,
    );
    const finalHeap = hub ? await heapUsedMB(hub.httpUrl) : null;
    return {
      configured: site.allIds.length,
      baseRssMB: round(baseRss / 2 ** 20, 1),
      baseHeapMB: baseHeap,
      finalHeapMB: finalHeap,
      steps,
      held,
      final,
      perConnectionKB: round(((final.rssMB - baseRss / 2 ** 20) * 1024) / Math.max(1, held), 1),
      errors,
      stoppedBecause,
    };
  } finally {
    await Promise.allSettled([...workers.map((w) => w.close()), watcher?.close(), probes?.close()]);
    await hub?.stop();
    await mosq?.stop();
  }
}

/** V8 heap in use, from the hub's own /metrics (prom-client process metrics). */
async function heapUsedMB(httpUrl: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const m = /^carehub_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text);
    return m ? round(Number(m[1]) / 2 ** 20, 1) : null;
  } catch {
    return null;
  }
}

/**
 * RSS of an idle broker with a small site (the 100 reserved homes, 400 devices) and the same
 * feed client and probe devices: with the idle RSS of the big site it splits the idle cost into a
 * fixed part and a part per configured device (rule state, timers, directory), for the projection.
 */
async function smallSiteIdle(ctx: Ctx, kind: TargetKind): Promise<{ configured: number; rssMB: number }> {
  const dir = join(ctx.tmp, `conn-small-${kind}`);
  const site = await generateSite({ dir, loadDevices: 0, scryptN: BENCH_SCRYPT_N });
  const hub =
    kind === 'hub'
      ? await startHub({ configFile: site.configFile, dataDir: site.dataDir, logFile: join(dir, 'hub.log') })
      : undefined;
  const mosq = kind === 'mosquitto' ? await startMosquitto(dir, site.allIds, site.secret) : undefined;
  let watcher: Watcher | undefined;
  let probes: Publishers | undefined;
  try {
    const port = hub?.mqttPort ?? mosq?.port ?? 0;
    watcher = hub
      ? await FeedWatcher.connect(
          hub.wsUrl,
          await login(hub.httpUrl, site.staff.username, site.staff.password),
        )
      : await MqttWatcher.connect(port, site.probeIds);
    probes = await Publishers.connect(port, site.probeIds, site.secret);
    await sleep(2000);
    return {
      configured: site.allIds.length,
      rssMB: round(rssBytes(hub?.pid ?? mosq?.pid ?? 0) / 2 ** 20, 1),
    };
  } finally {
    await Promise.allSettled([watcher?.close(), probes?.close()]);
    await hub?.stop();
    await mosq?.stop();
  }
}

export async function connectionsScenario(ctx: Ctx, p: ConnectionsParams): Promise<void> {
  ctx.log(`[3] connections: up to ${p.maxDevices} devices in steps of ${p.step}`);
  const site = await generateSite({
    dir: join(ctx.tmp, 'site-conn'),
    loadDevices: p.maxDevices,
    scryptN: BENCH_SCRYPT_N,
  });
  const res: Partial<Record<TargetKind, ConnResult>> = {};
  const small: Partial<Record<TargetKind, { configured: number; rssMB: number }>> = {};
  for (const kind of ctx.hubOnly ? (['hub'] as const) : (['hub', 'mosquitto'] as const)) {
    try {
      small[kind] = await smallSiteIdle(ctx, kind);
      res[kind] = await measure(ctx, kind, site, p);
    } catch (err) {
      ctx.log(`  ${kind}: FAILED ${(err as Error).stack ?? err}`);
      ctx.notes.push(`connections (${kind}) failed: ${(err as Error).message}`);
    }
  }
  const h = res.hub;
  const m = res.mosquitto;
  ctx.details.connections = { ...res, smallSiteIdle: small };
  /** Per configured device (idle, big site vs small site) and per connection (growth), in KB. */
  const model = (r: ConnResult | undefined, sm: { configured: number; rssMB: number } | undefined) => {
    if (!r || !sm) return undefined;
    const perConfiguredKB = ((r.baseRssMB - sm.rssMB) * 1024) / Math.max(1, r.configured - sm.configured);
    const fixedMB = sm.rssMB - (perConfiguredKB * sm.configured) / 1024;
    return { fixedMB, perConfiguredKB, perDeviceKB: perConfiguredKB + r.perConnectionKB };
  };
  const hm = model(h, small.hub);
  const mm = model(m, small.mosquitto);
  ctx.details.connectionsModel = { hub: hm, mosquitto: mm };
  ctx.figures.push(
    {
      scenario: '3',
      name: 'devices held (60 s heartbeats), feed p99 < 100 ms, open-file limit 20 000',
      unit: 'devices',
      hub: h?.held ?? null,
      reference: m?.held ?? null,
      referenceName: MOSQ,
      ratio: ratio(h?.held, m?.held),
      target: '>= 19000',
      met: h ? h.held >= 19_000 && h.final.sosP99 < 100 : null,
      ...(h ? { note: `hub stopped: ${h.stoppedBecause}` } : {}),
    },
    {
      scenario: '3',
      name: 'RSS per connection: growth from the idle broker (same site) to the final count',
      unit: 'KB',
      hub: h?.perConnectionKB ?? null,
      reference: m?.perConnectionKB ?? null,
      referenceName: MOSQ,
      ratio: ratio(h?.perConnectionKB, m?.perConnectionKB),
      target: '<= 25',
      met: h ? h.perConnectionKB <= 25 : null,
    },
    {
      scenario: '3',
      name: 'whole-process RSS per connected device (RSS at the final count / devices)',
      unit: 'KB',
      hub: h ? round((h.final.rssMB * 1024) / Math.max(1, h.held), 1) : null,
      reference: m ? round((m.final.rssMB * 1024) / Math.max(1, m.held), 1) : null,
      referenceName: MOSQ,
      target: '<= 25',
      met: h ? (h.final.rssMB * 1024) / Math.max(1, h.held) <= 25 : null,
    },
    {
      scenario: '3',
      name: 'idle cost per configured device (idle RSS, big site vs 400-device site)',
      unit: 'KB',
      hub: hm ? round(hm.perConfiguredKB, 1) : null,
      reference: mm ? round(mm.perConfiguredKB, 1) : null,
      referenceName: MOSQ,
    },
    {
      scenario: '3',
      name: 'SOS -> feed p50/p99 at the final count',
      unit: 'ms',
      hub: h ? `${h.final.sosP50} / ${h.final.sosP99}` : null,
      reference: m ? `${m.final.sosP50} / ${m.final.sosP99}` : null,
      referenceName: MOSQ,
      target: 'p99 < 100',
      met: h ? h.final.sosP99 < 100 : null,
    },
    {
      scenario: '3',
      name: `RSS idle / at the final count (hub heap in use ${h?.baseHeapMB ?? '-'} / ${h?.finalHeapMB ?? '-'} MB)`,
      unit: 'MB',
      hub: h ? `${h.baseRssMB} / ${h.final.rssMB}` : null,
      reference: m ? `${m.baseRssMB} / ${m.final.rssMB}` : null,
      referenceName: MOSQ,
    },
  );
  for (const target of [50_000, 200_000]) {
    const proj = (x: ReturnType<typeof model>) =>
      x ? round(x.fixedMB + (x.perDeviceKB * target) / 1024, 0) : null;
    ctx.figures.push({
      scenario: '3',
      name: `projected RSS for ${target.toLocaleString('en-US')} devices (fixed + (per configured + per connection) x N); needs ${target + 100} open files`,
      unit: 'MB',
      hub: proj(hm),
      reference: proj(mm),
      referenceName: MOSQ,
      ratio: ratio(proj(hm), proj(mm)),
    });
  }
}
