import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../lib/context.js';
import { openSession, type Session, type TargetKind } from '../lib/session.js';
import { BENCH_SCRYPT_N, generateSite } from '../lib/site.js';
import { type IngestResult, measureIngest, reportIngest } from './ingest.js';
import { type LatencyLevel, measureLatency, reportLatency } from './latency.js';
import { measureStorms, reportStorms, type StormResult } from './storms.js';

/** The reason a broker process ended (its exit and the error line of its log), or undefined while it runs. */
function crashed(s: Session): string | undefined {
  const child = s.hub?.child;
  if (child && child.exitCode === null && child.signalCode === null) return undefined;
  if (!child) return undefined;
  const log = existsSync(s.hub?.logFile ?? '') ? readFileSync(s.hub?.logFile ?? '', 'utf8') : '';
  const error = log.split('\n').find((l) => /^\w*Error\b|^\w+Error:/.test(l)) ?? '';
  return `exit ${child.exitCode ?? child.signalCode}${error ? `: ${error.trim()}` : ''} (see the hub log)`;
}

export interface BrokerParams {
  loadDevices: number;
  generators: number;
  connectPerSecond: number;
  ingest: { warmupMs: number; durationMs: number; window: number };
  latency: { levels: number[]; settleMs: number; probeMs: number; everyMs: number };
  storms: { windowMs: number; smokeWindowMs: number };
}

interface PerTarget {
  admission?: Session['admission'];
  ingest?: IngestResult;
  latency?: LatencyLevel[];
  storms?: StormResult;
}

/**
 * Scenarios 1, 2 and 4 share one broker process per target (the hub, then Mosquitto) with the same
 * generated site and the same generators: devices connect once, then ingest, latency and storms run
 * in turn against it.
 */
export async function brokerScenarios(ctx: Ctx, p: BrokerParams, only: Set<string>): Promise<void> {
  const site = await generateSite({
    dir: join(ctx.tmp, 'site-a'),
    loadDevices: p.loadDevices,
    scryptN: BENCH_SCRYPT_N,
  });
  const out: Record<TargetKind, PerTarget> = { hub: {}, mosquitto: {} };
  for (const kind of ctx.hubOnly ? (['hub'] as const) : (['hub', 'mosquitto'] as const)) {
    const r = out[kind];
    let s: Session | undefined;
    try {
      ctx.log(`[1,2,4] ${kind}: ${p.loadDevices} devices`);
      s = await openSession({
        kind,
        site,
        dir: join(ctx.tmp, `broker-${kind}`),
        loadDevices: p.loadDevices,
        generators: p.generators,
        connectPerSecond: p.connectPerSecond,
        cpuProfDir: ctx.profile && kind === 'hub' ? join(ctx.tmp, 'profiles', 'broker') : undefined,
        log: ctx.log,
      });
      r.admission = s.admission;
      const session = s;
      // A broker that died mid-run makes every later figure meaningless: say so instead.
      const alive = () => {
        const crash = crashed(session);
        if (crash) throw new Error(`${kind} process died: ${crash}`);
      };
      if (only.has('ingest')) r.ingest = await measureIngest(s, p.ingest, ctx.log);
      alive();
      if (only.has('latency')) r.latency = await measureLatency(s, p.latency, ctx.log);
      alive();
      if (only.has('storms')) r.storms = await measureStorms(s, p.storms, ctx.log);
      alive();
    } catch (err) {
      ctx.log(`  ${kind}: FAILED ${(err as Error).stack ?? err}`);
      ctx.notes.push(`scenarios 1/2/4 (${kind}) failed: ${(err as Error).message}`);
    } finally {
      await s?.close();
    }
  }
  ctx.details.admission = { hub: out.hub.admission, mosquitto: out.mosquitto.admission };
  if (only.has('ingest')) reportIngest(ctx, out.hub.ingest, out.mosquitto.ingest);
  if (only.has('latency')) reportLatency(ctx, out.hub.latency, out.mosquitto.latency, p.loadDevices);
  if (only.has('storms')) {
    reportStorms(ctx, out.hub.storms, out.mosquitto.storms);
  }
}
