import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { hubHealth } from '../lib/hub-child.js';
import { CpuMeter, ioCounters, rssBytes, sleep } from '../lib/proc.js';
import type { Session } from '../lib/session.js';
import { round } from '../lib/stats.js';

export interface IngestResult {
  devices: number;
  seconds: number;
  /** Messages through per second: durable + processed (hub) or delivered to the sink (Mosquitto). */
  perSecond: number;
  /** PUBACKs per second seen by the generators. */
  ackedPerSecond: number;
  /** Per-second throughput, min and max over the window. */
  minPerSecond: number;
  maxPerSecond: number;
  cpuUsPerMessage: number;
  /** Of which kernel time (stime). */
  sysUsPerMessage: number;
  /** Bytes written to storage per message (/proc/<pid>/io write_bytes). */
  diskBytesPerMessage: number;
  cores: number;
  rssMB: number;
  failed: number;
  journalLagRows: number | null;
}

/**
 * 1. Ingest: every generator keeps a window of QoS 1 heartbeat events in flight (closed loop:
 * the next one goes out on a PUBACK), so the broker runs as fast as it can; after a warm-up the
 * messages through and the broker's CPU (utime+stime from /proc) are counted over the window.
 */
export async function measureIngest(
  s: Session,
  o: { warmupMs: number; durationMs: number; window: number },
  log: Ctx['log'],
): Promise<IngestResult> {
  await Promise.all(
    s.workers.map((w) => w.load({ mode: 'closed', window: Math.ceil(o.window / s.workers.length) })),
  );
  await sleep(o.warmupMs);
  const f0 = await s.forwarded();
  const a0 = (await s.counters()).acked;
  const cpu = new CpuMeter(s.pid).start();
  const io0 = ioCounters(s.pid);
  const perSecond: number[] = [];
  let prev = f0;
  const end = performance.now() + o.durationMs;
  while (performance.now() < end - 500) {
    await sleep(Math.min(1000, end - performance.now()));
    const f = await s.forwarded();
    perSecond.push(f - prev);
    prev = f;
  }
  const f1 = await s.forwarded();
  const used = cpu.read();
  const io1 = ioCounters(s.pid);
  const c1 = await s.counters();
  const rss = rssBytes(s.pid);
  await Promise.all(s.workers.map((w) => w.stopLoad()));
  let lag: number | null = null;
  if (s.hub) {
    const h = (await hubHealth(s.hub.httpUrl)) as { checks: { journal: { lagRows: number } } };
    lag = h.checks.journal.lagRows;
  }
  const seconds = used.wallMs / 1000;
  const through = f1 - f0;
  const r: IngestResult = {
    devices: (await s.counters()).connected,
    seconds: round(seconds, 2),
    perSecond: round(through / seconds, 0),
    ackedPerSecond: round((c1.acked - a0) / seconds, 0),
    minPerSecond: Math.min(...perSecond),
    maxPerSecond: Math.max(...perSecond),
    cpuUsPerMessage: round(used.cpuUs / Math.max(1, through), 1),
    sysUsPerMessage: round(used.sysUs / Math.max(1, through), 1),
    diskBytesPerMessage: round((io1.writeBytes - io0.writeBytes) / Math.max(1, through), 0),
    cores: round(used.cores, 2),
    rssMB: round(rss / 2 ** 20, 0),
    failed: c1.failed,
    journalLagRows: lag,
  };
  log(
    `  ${s.kind} ingest: ${r.perSecond}/s, ${r.cpuUsPerMessage} CPU-µs/msg (${r.sysUsPerMessage} kernel), ${r.diskBytesPerMessage} B written/msg, ${r.cores} cores, failed ${r.failed}`,
  );
  return r;
}

export function reportIngest(ctx: Ctx, hub: IngestResult | undefined, ref: IngestResult | undefined): void {
  ctx.details.ingest = { hub, mosquitto: ref };
  const n = hub?.devices ?? ref?.devices ?? 0;
  ctx.figures.push(
    {
      scenario: '1',
      name: `sustained durable QoS 1 events/s, ${n} devices (Mosquitto: forwarded to a subscriber)`,
      unit: 'msg/s',
      hub: hub?.perSecond ?? null,
      reference: ref?.perSecond ?? null,
      referenceName: MOSQ,
      ratio: ratio(hub?.perSecond, ref?.perSecond),
      target: '>= 20000',
      met: hub ? hub.perSecond >= 20_000 : null,
    },
    {
      scenario: '1',
      name: 'CPU per event (hub) / per forwarded message (Mosquitto)',
      unit: 'CPU-µs',
      hub: hub?.cpuUsPerMessage ?? null,
      reference: ref?.cpuUsPerMessage ?? null,
      referenceName: MOSQ,
      ratio: ratio(hub?.cpuUsPerMessage, ref?.cpuUsPerMessage),
      target: '<= 2x Mosquitto',
      met: hub && ref ? hub.cpuUsPerMessage <= 2 * ref.cpuUsPerMessage : null,
    },
    {
      scenario: '1',
      name: 'broker CPU while saturated',
      unit: 'cores',
      hub: hub?.cores ?? null,
      reference: ref?.cores ?? null,
      referenceName: MOSQ,
    },
  );
}
