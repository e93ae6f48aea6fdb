import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { probeSos } from '../lib/probe.js';
import { monoMs, sleep } from '../lib/proc.js';
import type { Session } from '../lib/session.js';
import { round, type Summary, summarize } from '../lib/stats.js';

export interface StormResult {
  reconnect: {
    devices: number;
    reconnected: number;
    failed: number;
    errors: Record<string, number>;
    /** Storm start → the last device connected, subscribed and announced. */
    allMs: number;
    connect: Summary;
    /** SOS → feed while the storm lasts. */
    sosDuringStorm: Summary;
    sosLost: number;
  };
  smoke: { alarms: number; windowMs: number; allOnFeedMs: number; latency: Summary; lost: number };
}

/**
 * 4. Storms. (a) Every connected device drops its connection without DISCONNECT (a power or network
 * blip) and reconnects at a random moment within the window; measured until the last is back,
 * with SOS presses timed meanwhile. (b) The 50 smoke detectors of one building (building 1) fire
 * within the window: time from the first publish until every alarm is on the feed.
 */
export async function measureStorms(
  s: Session,
  o: { windowMs: number; smokeWindowMs: number },
  log: Ctx['log'],
): Promise<StormResult> {
  const before = (await s.counters()).connected;
  const probe = probeSos(s.probes, s.watcher, o.windowMs + 2000, 100);
  const storms = await Promise.all(
    s.workers.map((w) =>
      w.storm({ windowMs: o.windowMs, timeoutMs: 60_000, deadlineMs: o.windowMs + 120_000 }),
    ),
  );
  const sos = await probe;
  const errors: Record<string, number> = {};
  for (const r of storms) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const reconnect = {
    devices: before,
    reconnected: storms.reduce((n, r) => n + r.connected, 0),
    failed: storms.reduce((n, r) => n + r.failed, 0),
    errors,
    allMs: round(Math.max(...storms.map((r) => r.ms)), 0),
    connect: summarize(storms.flatMap((r) => r.latencies)),
    sosDuringStorm: summarize(sos.latencies),
    sosLost: sos.lost,
  };
  log(
    `  ${s.kind} reconnect storm: ${reconnect.reconnected}/${reconnect.devices} back in ${reconnect.allMs} ms (connect p99 ${round(reconnect.connect.p99)} ms), SOS p99 ${round(reconnect.sosDuringStorm.p99)} ms`,
  );
  await sleep(1000);

  const n = s.smoke.devs.length;
  const offsets = Array.from({ length: n }, () => Math.random() * o.smokeWindowMs).sort((a, b) => a - b);
  const t0 = monoMs();
  const waits: Array<Promise<number | null>> = [];
  const sentAt: number[] = [];
  for (let i = 0; i < n; i++) {
    const wait = t0 + (offsets[i] as number) - monoMs();
    if (wait > 0) await sleep(wait);
    const sent = s.smoke.send(i, 'smoke.detected');
    sentAt.push(sent.at);
    const key = s.watcher.keyFor('smoke', s.smoke.devs[i]?.id ?? '', sent.eventId);
    sent.acked.catch(() => {});
    waits.push(
      s.watcher.wait(key, 30_000).then(
        (at) => at,
        () => null,
      ),
    );
  }
  const arrivals = await Promise.all(waits);
  const first = Math.min(...sentAt);
  const got = arrivals.filter((a): a is number => a !== null);
  const latencies: number[] = [];
  arrivals.forEach((a, i) => {
    if (a !== null) latencies.push(a - (sentAt[i] as number));
  });
  const smoke = {
    alarms: n,
    windowMs: o.smokeWindowMs,
    allOnFeedMs: got.length ? round(Math.max(...got) - first, 0) : Number.NaN,
    latency: summarize(latencies),
    lost: n - got.length,
  };
  log(
    `  ${s.kind} smoke storm: ${n - smoke.lost}/${n} alarms on the feed ${smoke.allOnFeedMs} ms after the first (each: p99 ${round(smoke.latency.p99)} ms)`,
  );
  return { reconnect, smoke };
}

export function reportStorms(ctx: Ctx, hub: StormResult | undefined, ref: StormResult | undefined): void {
  ctx.details.storms = { hub, mosquitto: ref };
  const n = hub?.reconnect.devices ?? ref?.reconnect.devices ?? 0;
  const w = (hub?.smoke.windowMs ?? ref?.smoke.windowMs ?? 0) / 1000;
  ctx.figures.push(
    {
      scenario: '4',
      name: `${n} devices reconnecting within ${w} s: until all back (failed hub ${hub?.reconnect.failed ?? '-'}, ref ${ref?.reconnect.failed ?? '-'})`,
      unit: 'ms',
      hub: hub?.reconnect.allMs ?? null,
      reference: ref?.reconnect.allMs ?? null,
      referenceName: MOSQ,
      ratio: ratio(hub?.reconnect.allMs, ref?.reconnect.allMs),
    },
    {
      scenario: '4',
      name: 'reconnect storm: CONNECT -> ready p50/p99 per device',
      unit: 'ms',
      hub: hub ? `${round(hub.reconnect.connect.p50)} / ${round(hub.reconnect.connect.p99)}` : null,
      reference: ref ? `${round(ref.reconnect.connect.p50)} / ${round(ref.reconnect.connect.p99)}` : null,
      referenceName: MOSQ,
      ratio: ratio(hub?.reconnect.connect.p99, ref?.reconnect.connect.p99),
    },
    {
      scenario: '4',
      name: 'SOS -> feed p50/p99 during the reconnect storm',
      unit: 'ms',
      hub: hub
        ? `${round(hub.reconnect.sosDuringStorm.p50)} / ${round(hub.reconnect.sosDuringStorm.p99)}`
        : null,
      reference: ref
        ? `${round(ref.reconnect.sosDuringStorm.p50)} / ${round(ref.reconnect.sosDuringStorm.p99)}`
        : null,
      referenceName: MOSQ,
      ratio: ratio(hub?.reconnect.sosDuringStorm.p99, ref?.reconnect.sosDuringStorm.p99),
    },
    {
      scenario: '4',
      name: `${hub?.smoke.alarms ?? ref?.smoke.alarms ?? 50} smoke alarms in one building within ${w} s: first publish -> every alert on the feed`,
      unit: 'ms',
      hub: hub?.smoke.allOnFeedMs ?? null,
      reference: ref?.smoke.allOnFeedMs ?? null,
      referenceName: MOSQ,
      ...(hub && hub.smoke.lost > 0 ? { note: `${hub.smoke.lost} alarms missing` } : {}),
    },
    {
      scenario: '4',
      name: 'smoke storm: each alarm publish -> feed p50/p99/max',
      unit: 'ms',
      hub: hub
        ? `${round(hub.smoke.latency.p50)} / ${round(hub.smoke.latency.p99)} / ${round(hub.smoke.latency.max)}`
        : null,
      reference: ref
        ? `${round(ref.smoke.latency.p50)} / ${round(ref.smoke.latency.p99)} / ${round(ref.smoke.latency.max)}`
        : null,
      referenceName: MOSQ,
      ratio: ratio(hub?.smoke.latency.p99, ref?.smoke.latency.p99),
    },
  );
}
