import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { track } from '../lib/children.js';
import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { hubHealth, startHub } from '../lib/hub-child.js';
import { SINK_PASSWORD, SINK_USER, startMosquitto } from '../lib/mosquitto.js';
import { FeedWatcher, login, Publishers } from '../lib/probe.js';
import { monoMs, sleep } from '../lib/proc.js';
import type { TargetKind } from '../lib/session.js';
import { BENCH_SCRYPT_N, generateSite, homeOfDevice, type Site } from '../lib/site.js';
import { round, summarize } from '../lib/stats.js';
import { Worker } from '../lib/workers.js';
import type { FanoutReport } from '../loadgen/protocol.js';

export interface MicroParams {
  homes: number;
  ruleEvents: number;
  journalSeconds: number;
  feedClients: number;
  feedPhaseMs: number;
  slowMaxMs: number;
}

function child(ctx: Ctx, args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = track(
      spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--expose-gc',
          '--max-old-space-size=6144',
          join(import.meta.dirname, 'micro-child.ts'),
          ...args,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      ),
    );
    let out = '';
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as Record<string, unknown>);
      else reject(new Error(`micro ${args[0]} exited with ${code}${timer ? '' : ''}`));
    });
    ctx.log(`  micro ${args[0]} (pid ${p.pid})`);
  });
}

/** 6. Micro: rules engine, journal group commit, feed fan-out. */
export async function microScenarios(ctx: Ctx, p: MicroParams): Promise<void> {
  ctx.log(`[6] micro: rules with ${p.homes} homes, journal, fan-out to ${p.feedClients} feed clients`);
  try {
    const dir = join(ctx.tmp, 'micro-rules');
    mkdirSync(dir, { recursive: true });
    const r = (await child(ctx, ['rules', dir, String(p.homes), String(p.ruleEvents)], 900_000)) as {
      homes: number;
      rulesEventsPerSecond: number;
      processorRowsPerSecond: number;
      heapPerHomeBytes: number;
      rssPerHomeBytes: number;
      configParseMs: number;
      loadStateMs: number;
    };
    ctx.details.rules = r;
    ctx.log(
      `  rules: ${r.rulesEventsPerSecond} events/s, processor ${r.processorRowsPerSecond} rows/s, ${r.heapPerHomeBytes} B heap per home`,
    );
    ctx.figures.push(
      {
        scenario: '6',
        name: `rules engine events/s, ${r.homes.toLocaleString('en-US')} homes loaded (in-process, persisted state and timers)`,
        unit: 'events/s',
        hub: r.rulesEventsPerSecond,
        reference: r.processorRowsPerSecond,
        referenceName: 'whole processor (rules + device state + feed log) rows/s',
      },
      {
        scenario: '6',
        name: 'memory per home (home state, settings, armed timers): heap / RSS',
        unit: 'bytes',
        hub: `${r.heapPerHomeBytes} / ${r.rssPerHomeBytes}`,
        reference: null,
        referenceName: 'n/a',
        note: `config parse ${r.configParseMs} ms, load all homes ${r.loadStateMs} ms`,
      },
    );
  } catch (err) {
    ctx.notes.push(`micro rules failed: ${(err as Error).message}`);
  }
  try {
    const dir = join(ctx.tmp, 'micro-journal');
    mkdirSync(dir, { recursive: true });
    const j = (await child(ctx, ['journal', dir, String(p.journalSeconds)], 300_000)) as {
      groups: Array<{ perTurn: number; rowsPerSecond: number; commitsPerSecond: number }>;
      fsyncsPerSecond: number;
      rawRowsPerSecond: number;
      rawCommitsPerSecond: number;
    };
    ctx.details.journal = j;
    for (const g of j.groups) {
      ctx.figures.push({
        scenario: '6',
        name: `journal group commit, ${g.perTurn} appends per event-loop turn: rows/s (commits=fsyncs/s)`,
        unit: 'rows/s',
        hub: `${g.rowsPerSecond} (${g.commitsPerSecond})`,
        reference:
          g.perTurn === 1
            ? `${j.rawCommitsPerSecond} (${j.fsyncsPerSecond})`
            : g.perTurn === 1000
              ? j.rawRowsPerSecond
              : null,
        referenceName:
          g.perTurn === 1
            ? 'raw SQLite commits/s (raw fdatasync/s)'
            : g.perTurn === 1000
              ? 'raw SQLite, 1000-row transactions'
              : '',
        ratio:
          g.perTurn === 1
            ? ratio(g.commitsPerSecond, j.rawCommitsPerSecond)
            : g.perTurn === 1000
              ? ratio(g.rowsPerSecond, j.rawRowsPerSecond)
              : null,
      });
    }
    ctx.log(
      `  journal: ${j.groups.map((g) => `${g.perTurn}/turn ${g.rowsPerSecond} rows/s ${g.commitsPerSecond} commits/s`).join('; ')}; raw fsync ${j.fsyncsPerSecond}/s`,
    );
  } catch (err) {
    ctx.notes.push(`micro journal failed: ${(err as Error).message}`);
  }
  const site = await generateSite({
    dir: join(ctx.tmp, 'site-fan'),
    loadDevices: 0,
    scryptN: BENCH_SCRYPT_N,
    feedMaxBacklogBytes: 65_536,
  });
  const fan: Partial<Record<TargetKind, FanResult>> = {};
  for (const kind of ctx.hubOnly ? (['hub'] as const) : (['hub', 'mosquitto'] as const)) {
    try {
      fan[kind] = await fanout(ctx, kind, site, p);
    } catch (err) {
      ctx.log(`  fan-out ${kind}: FAILED ${(err as Error).stack ?? err}`);
      ctx.notes.push(`fan-out (${kind}) failed: ${(err as Error).message}`);
    }
  }
  ctx.details.fanout = fan;
  const h = fan.hub;
  const m = fan.mosquitto;
  ctx.figures.push(
    {
      scenario: '6',
      name: `fan-out to ${p.feedClients} feed clients, 1000 alert changes/min: delivery p50/p99`,
      unit: 'ms',
      hub: h ? `${h.normal.p50} / ${h.normal.p99}` : null,
      reference: m ? `${m.normal.p50} / ${m.normal.p99}` : null,
      referenceName: `${MOSQ} (${p.feedClients} QoS 1 subscribers)`,
      ratio: ratio(h?.normal.p99, m?.normal.p99),
    },
    {
      scenario: '6',
      name: 'one client stops reading: others p50/p99 meanwhile; stalled client cut after',
      unit: 'ms',
      hub: h
        ? `${h.slow.p50} / ${h.slow.p99}; cut ${h.cutAfterMs === null ? 'no' : `${h.cutAfterMs} ms`}`
        : null,
      reference: m
        ? `${m.slow.p50} / ${m.slow.p99}; cut ${m.cutAfterMs === null ? 'no' : `${m.cutAfterMs} ms`}`
        : null,
      referenceName: MOSQ,
      ratio: ratio(h?.slow.p99, m?.slow.p99),
      ...(h
        ? {
            met: h.cutAfterMs !== null && h.slow.p99 <= Math.max(2 * h.normal.p99, h.normal.p99 + 10),
            target: 'cut; others flat',
          }
        : {}),
    },
  );
}

interface FanResult {
  clients: number;
  normal: { p50: number; p99: number; n: number; missing: number };
  slow: { p50: number; p99: number; n: number; missing: number };
  cutAfterMs: number | null;
  slowPhaseMs: number;
}

/**
 * Feed fan-out: `feedClients` duty-staff feed clients in a generator process, SOS presses at 1000 a
 * minute from the probe devices (each press changes an alert: raised or one more occurrence), each
 * timed from the publish to its receipt at every client. Then client 0 stops reading (its socket
 * paused) after asking for a replay of the feed log (`resume` from 0, every 20 ms: a console waking
 * up), so its backlog grows past the kernel's socket buffers within seconds; the hub should cut it
 * (feed.maxBacklogBytes, at its minimum of 64 KiB here) while the others' latency stays where it
 * was. Mosquitto: the same presses to QoS 1 subscribers, one of which stops reading.
 */
async function fanout(ctx: Ctx, kind: TargetKind, site: Site, p: MicroParams): Promise<FanResult> {
  const dir = join(ctx.tmp, `fan-${kind}`);
  mkdirSync(dir, { recursive: true });
  const hub =
    kind === 'hub'
      ? await startHub({ configFile: site.configFile, dataDir: site.dataDir, logFile: join(dir, 'hub.log') })
      : undefined;
  const mosq = kind === 'mosquitto' ? await startMosquitto(dir, site.allIds, site.secret) : undefined;
  const worker = new Worker(`fan-${kind}`);
  let pubs: Publishers | undefined;
  let watcher: FeedWatcher | undefined;
  try {
    const port = hub?.mqttPort ?? mosq?.port ?? 0;
    if (hub) {
      const token = await login(hub.httpUrl, site.staff.username, site.staff.password);
      watcher = await FeedWatcher.connect(hub.wsUrl, token);
      await worker.feedClients(hub.wsUrl, token, p.feedClients);
    } else {
      await worker.subClients({
        host: '127.0.0.1',
        port,
        localAddress: '127.0.0.4',
        username: SINK_USER,
        password: SINK_PASSWORD,
        topic: 'carehub/v1/devices/+/events',
        count: p.feedClients,
      });
    }
    pubs = await Publishers.connect(port, site.probeIds, site.secret);
    const press = async (ms: number, sent: Record<string, number>, until?: () => Promise<boolean>) => {
      const end = monoMs() + ms;
      let i = 0;
      let lastCheck = 0;
      while (monoMs() < end) {
        const s = (pubs as Publishers).send(i, 'sos.pressed');
        const dev = (pubs as Publishers).devs[i % (pubs as Publishers).devs.length]?.id ?? '';
        const key = watcher ? watcher.keyFor('sos', dev) : s.eventId;
        sent[key] = s.at;
        s.acked.catch(() => {});
        i++;
        if (until && monoMs() - lastCheck > 500) {
          lastCheck = monoMs();
          if (await until()) return true;
        }
        await sleep(60 - (monoMs() % 1));
      }
      return false;
    };
    const sent1: Record<string, number> = {};
    await press(p.feedPhaseMs, sent1);
    await sleep(1000);
    const r1: FanoutReport = await worker.fanoutReport(sent1, 0);
    const sent2: Record<string, number> = {};
    const baseClients = hub
      ? ((await hubHealth(hub.httpUrl)) as { checks: { feed: { clients: number } } }).checks.feed.clients
      : 0;
    const t0 = monoMs();
    await worker.pauseOne(200);
    let cutAt: number | null = null;
    const cut = async () => {
      if (!hub) return false;
      const h = (await hubHealth(hub.httpUrl)) as { checks: { feed: { clients: number } } };
      if (h.checks.feed.clients < baseClients) {
        cutAt ??= monoMs();
        return true;
      }
      return false;
    };
    // Until the stalled client is cut (or the bound), then one more phase to see the others after it.
    await press(p.slowMaxMs, sent2, cut);
    await press(p.feedPhaseMs / 2, sent2);
    await sleep(1000);
    const r2 = await worker.fanoutReport(sent2, 0);
    const s1 = summarize(r1.latencies);
    const s2 = summarize(r2.latencies);
    const res: FanResult = {
      clients: r1.clients,
      normal: { p50: round(s1.p50), p99: round(s1.p99), n: s1.n, missing: r1.missing },
      slow: { p50: round(s2.p50), p99: round(s2.p99), n: s2.n, missing: r2.missing },
      cutAfterMs: cutAt === null ? null : round((cutAt as number) - t0, 0),
      slowPhaseMs: round(monoMs() - t0, 0),
    };
    ctx.log(
      `  fan-out ${kind}: normal p50/p99 ${res.normal.p50}/${res.normal.p99} ms; stalled client: others ${res.slow.p50}/${res.slow.p99} ms, cut ${res.cutAfterMs ?? 'no'}; missing ${r1.missing}+${r2.missing}`,
    );
    void homeOfDevice;
    return res;
  } finally {
    await Promise.allSettled([worker.close(), pubs?.close(), watcher?.close()]);
    await hub?.stop();
    await mosq?.stop();
  }
}
