import { formatDuration } from '../util/duration.js';
import type { LoadResult } from './coordinator.js';
import type { Histogram } from './histogram.js';

export interface HubCounters {
  accepted: number;
  rejected: Record<string, number>;
  duplicates: number;
  health: string;
}

const ms = (v: number | undefined) =>
  v === undefined ? '-' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;

function percentiles(h: Histogram): { p50?: number; p95?: number; p99?: number; max?: number } {
  if (h.count === 0) return {};
  const out: { p50?: number; p95?: number; p99?: number; max?: number } = { max: h.max };
  for (const [k, q] of [
    ['p50', 0.5],
    ['p95', 0.95],
    ['p99', 0.99],
  ] as const) {
    const v = h.percentile(q);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function counts(map: Record<string, number>): string {
  const entries = Object.entries(map).filter(([, n]) => n > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(', ');
}

/**
 * True when every device connected, every publish was acknowledged, no worker failed, and (when the
 * hub's counters were read) the hub rejected nothing: a hub that acknowledges and then drops (a rate
 * limit) is not a clean run either.
 */
export function loadClean(r: LoadResult, hub?: HubCounters): boolean {
  const errs = Object.entries(r.errors).filter(([, n]) => n > 0);
  const hubRejected = hub ? Object.values(hub.rejected).some((n) => n > 0) : false;
  return (
    r.failures.length === 0 &&
    r.connected === r.plan.devices &&
    errs.length === 0 &&
    Object.keys(r.connectFailures).length === 0 &&
    !hubRejected
  );
}

export function formatLoadResult(r: LoadResult, url: string, hub?: HubCounters): string {
  const p = r.plan;
  const c = percentiles(r.connectLatency);
  const a = percentiles(r.puback);
  const connectRate = r.connectPhaseMs > 0 ? (r.connected / (r.connectPhaseMs / 1000)).toFixed(0) : '-';
  const lines = [
    `Load run against ${url}: ${p.devices} devices in ${p.processes} process${p.processes === 1 ? '' : 'es'}${p.sourceIps.length > 0 ? ` from ${p.sourceIps.length} source addresses` : ''}`,
    `  connect: ${r.connected}/${p.devices} connected in ${(r.connectPhaseMs / 1000).toFixed(1)} s (${connectRate}/s${p.connectStormMs > 0 ? `, storm spread over ${formatDuration(p.connectStormMs)}` : ''}); CONNACK p50 ${ms(c.p50)}, p95 ${ms(c.p95)}, p99 ${ms(c.p99)}, max ${ms(c.max)}; failed: ${counts(r.connectFailures)}`,
    `  traffic: ${formatDuration(p.durationMs)}, heartbeat every ${formatDuration(p.heartbeatMs)}: heartbeats ${r.rates.heartbeats.toFixed(0)}/s, events ${r.rates.events.toFixed(0)}/s (target ${p.rate}/s), acknowledged ${r.rates.acked.toFixed(0)}/s`,
    `  PUBACK latency (${r.puback.count} acknowledged): p50 ${ms(a.p50)}, p95 ${ms(a.p95)}, p99 ${ms(a.p99)}, max ${ms(a.max)}`,
    `  errors: ${counts(r.errors)}${r.failures.length > 0 ? `; WORKER FAILURES: ${r.failures.join('; ')}` : ''}`,
  ];
  if (hub) {
    lines.push(
      `  hub (/metrics during the run): ${hub.accepted} events accepted, ${hub.duplicates} duplicates, rejected: ${counts(hub.rejected)}; health ${hub.health}`,
    );
  }
  lines.push(`${loadClean(r, hub) ? 'OK' : 'ERRORS'}: wall time ${(r.wallMs / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

export function loadResultJson(r: LoadResult, url: string, hub?: HubCounters): unknown {
  return {
    ok: loadClean(r, hub),
    target: url,
    plan: r.plan,
    connect: {
      connected: r.connected,
      failures: r.connectFailures,
      phaseMs: r.connectPhaseMs,
      latencyMs: percentiles(r.connectLatency),
    },
    traffic: { heartbeats: r.heartbeats, events: r.events, acknowledged: r.acked, ratesPerSecond: r.rates },
    pubackLatencyMs: { count: r.puback.count, ...percentiles(r.puback) },
    errors: r.errors,
    workerFailures: r.failures,
    hub: hub ?? null,
    wallMs: r.wallMs,
  };
}
