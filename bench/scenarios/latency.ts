import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { probeSos } from '../lib/probe.js';
import { CpuMeter, sleep } from '../lib/proc.js';
import type { Session } from '../lib/session.js';
import { round, type Summary, summarize } from '../lib/stats.js';

export interface LatencyLevel {
  backgroundTarget: number;
  backgroundAchieved: number;
  latency: Summary;
  presses: number;
  lost: number;
  cores: number;
}

/**
 * 2. Latency: SOS presses from the probe devices (building 0), each timed from just before the
 * QoS 1 publish to its receipt on the duty feed (Mosquitto: to a subscriber), while the generators
 * send background heartbeat events at a fixed rate (open loop, in-flight capped).
 */
export async function measureLatency(
  s: Session,
  o: { levels: number[]; settleMs: number; probeMs: number; everyMs: number },
  log: Ctx['log'],
): Promise<LatencyLevel[]> {
  const out: LatencyLevel[] = [];
  for (const bg of o.levels) {
    if (bg > 0) {
      const per = bg / s.workers.length;
      await Promise.all(
        s.workers.map((w) =>
          w.load({ mode: 'rate', perSecond: per, maxInflight: Math.max(200, Math.ceil(per)) }),
        ),
      );
    }
    await sleep(bg > 0 ? o.settleMs : 500);
    const a0 = (await s.counters()).acked;
    const cpu = new CpuMeter(s.pid).start();
    const probe = await probeSos(s.probes, s.watcher, o.probeMs, o.everyMs);
    const used = cpu.read();
    const a1 = (await s.counters()).acked;
    if (bg > 0) await Promise.all(s.workers.map((w) => w.stopLoad()));
    const level: LatencyLevel = {
      backgroundTarget: bg,
      backgroundAchieved: round(((a1 - a0) * 1000) / used.wallMs, 0),
      latency: summarize(probe.latencies),
      presses: probe.presses,
      lost: probe.lost,
      cores: round(used.cores, 2),
    };
    log(
      `  ${s.kind} SOS latency @${bg}/s (achieved ${level.backgroundAchieved}/s): p50 ${round(level.latency.p50)} p99 ${round(level.latency.p99)} max ${round(level.latency.max)} ms, lost ${level.lost}/${level.presses}`,
    );
    out.push(level);
    await sleep(300);
  }
  return out;
}

export function reportLatency(
  ctx: Ctx,
  hub: LatencyLevel[] | undefined,
  ref: LatencyLevel[] | undefined,
  devices: number,
): void {
  ctx.details.latency = { hub, mosquitto: ref };
  const levels = hub ?? ref ?? [];
  levels.forEach((_, i) => {
    const h = hub?.[i];
    const m = ref?.[i];
    const bg = h?.backgroundTarget ?? m?.backgroundTarget ?? 0;
    const top = bg === Math.max(...levels.map((l) => l.backgroundTarget)) && bg >= 10_000;
    ctx.figures.push({
      scenario: '2',
      name: `SOS publish -> feed p50/p95/p99/max @ ${bg} bg ev/s (achieved hub ${h?.backgroundAchieved ?? '-'} / ref ${m?.backgroundAchieved ?? '-'})`,
      unit: 'ms',
      hub: h
        ? `${round(h.latency.p50)} / ${round(h.latency.p95)} / ${round(h.latency.p99)} / ${round(h.latency.max)}`
        : null,
      reference: m
        ? `${round(m.latency.p50)} / ${round(m.latency.p95)} / ${round(m.latency.p99)} / ${round(m.latency.max)}`
        : null,
      referenceName: MOSQ,
      ratio: ratio(h?.latency.p99, m?.latency.p99),
      ...(top
        ? {
            target: `p99 <= 20 (${devices} devices)`,
            met: h ? h.latency.p99 <= 20 && h.lost === 0 && h.backgroundAchieved >= 0.95 * bg : null,
          }
        : {}),
      ...(h && h.lost > 0 ? { note: `${h.lost} presses not on the feed within 10 s` } : {}),
    });
  });
}
