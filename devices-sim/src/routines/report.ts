import { formatDuration } from '../util/duration.js';
import { formatLocal } from '../util/local-time.js';
import { table } from '../util/table.js';
import type { RoutineResult } from './run.js';
import type { RuleStats } from './score.js';

/** The care-quality goal (DESIGN.md): at most one false alert per 30 resident-days. */
export const FALSE_ALERT_GOAL_PER_RESIDENT_DAY = 1 / 30;

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const rate = (n: number) => n.toFixed(3);

export function goalMet(r: RoutineResult): boolean {
  return r.score.falsePerResidentDay <= FALSE_ALERT_GOAL_PER_RESIDENT_DAY + 1e-9;
}

export function allDetected(r: RoutineResult): boolean {
  return r.score.detections.every((d) => d.alertId !== undefined);
}

function homeKind(r: RoutineResult, homeId: string): string {
  const p = r.personas.find((x) => x.homeId === homeId);
  if (!p) return homeId;
  const sensors = p.devices.motion ? 'motion sensor' : 'door-only';
  return `${homeId} (${sensors}${p.wanderingRisk ? ', wandering risk' : ''})`;
}

function ruleRow(s: RuleStats, incidents: boolean): string[] {
  const med = median(s.delaysMs);
  const max = s.delaysMs.length > 0 ? Math.max(...s.delaysMs) : undefined;
  return [
    s.kind,
    String(s.alerts),
    String(s.genuine),
    String(s.false),
    rate(s.falsePerResidentDay),
    ...(incidents
      ? [
          String(s.expected),
          s.expected === 0 ? '-' : String(s.detected),
          med === undefined ? '-' : formatDuration(med),
          max === undefined ? '-' : formatDuration(max),
        ]
      : []),
  ];
}

/** Per rule: alerts, false alerts per resident-day, detections and delays; then each false alert and incident. */
export function formatRoutineResult(r: RoutineResult): string {
  const o = r.options;
  const motion = r.personas.filter((p) => p.devices.motion).length;
  const wander = r.personas.filter((p) => p.wanderingRisk).length;
  const lines = [
    `Routine run: ${o.residents} residents × ${o.days} days = ${r.score.residentDays} resident-days (seed ${o.seed}, ${o.incidents ? 'with injected incidents' : 'no incidents'})`,
    `  site: ${motion} homes with a motion sensor, ${o.residents - motion} door-only; ${wander} residents at wandering risk; rules: ${Object.keys(o.rules).length === 0 ? 'defaults' : JSON.stringify(o.rules)}`,
    `  played ${r.counts.activity} activity events and ${r.counts.heartbeats} heartbeats in ${r.counts.advances} clock steps: ${formatLocal(r.start, r.tz)} → ${formatLocal(r.end, r.tz)} ${r.tz} in ${(r.wallMs / 1000).toFixed(1)} s`,
    '',
    table(
      [
        'rule',
        'alerts',
        'genuine',
        'false',
        'false/resident-day',
        ...(o.incidents ? ['incidents', 'detected', 'delay median', 'delay max'] : []),
      ],
      r.score.rules.map((s) => ruleRow(s, o.incidents)),
    ),
    '',
    `False alerts: ${r.score.falseTotal} in ${r.score.residentDays} resident-days = ${rate(r.score.falsePerResidentDay)} per resident-day (${(r.score.falsePerResidentDay * 30).toFixed(2)} per 30); goal at most 1 per 30 (${rate(FALSE_ALERT_GOAL_PER_RESIDENT_DAY)}): ${goalMet(r) ? 'MET' : 'NOT MET'}`,
  ];
  const t = r.checkins.total;
  const heard = (why: string) => r.prompts.filter((p) => p.why === why).length;
  lines.push(
    `Check-ins: ${t.sent} prompts = ${rate(t.sent / Math.max(1, r.score.residentDays))} per resident-day: ${t.answered} answered, ${t.activity} ended by other activity, ${t.missed} missed (alerted); ${t.capped} not sent (day's limit)`,
    `  residents heard ${r.prompts.length}: answered ${heard('answered')}, out ${heard('out')}, fallen ${heard('fallen')}, did not hear ${heard('not heard')}; answered too late ${r.prompts.filter((p) => p.answeredAt !== null && p.answeredAt > p.answerBy).length}`,
  );
  for (const a of r.score.falseAlerts) {
    const ctx = r.falseAlertContext[a.id];
    const last = ctx?.lastActivity ?? null;
    const next = ctx?.nextActivity ?? null;
    const quiet =
      last === null
        ? ''
        : `; quiet ${formatDuration(a.raisedAtMs - last)} since the last activity at ${formatLocal(last, r.tz)}`;
    const after = next === null ? '' : `, next activity ${formatLocal(next, r.tz)}`;
    lines.push(
      `  ${a.kind} ${homeKind(r, a.homeId)}${a.deviceId ? ` ${a.deviceId}` : ''} at ${formatLocal(a.raisedAtMs, r.tz)}${quiet}${after}`,
    );
  }
  if (o.incidents) {
    lines.push(
      '',
      `Incidents: ${r.score.detections.filter((d) => d.alertId).length}/${r.score.detections.length} expected alerts raised${allDetected(r) ? '' : ' (SOME MISSED)'}`,
    );
    lines.push(
      table(
        ['incident', 'home', 'when', 'expected', 'raised after'],
        r.score.detections.map((d) => [
          d.incident.type,
          homeKind(r, d.incident.homeId),
          formatLocal(d.expect.onset, r.tz),
          `${d.expect.kind}${d.expect.deviceId ? ` (${d.expect.deviceId})` : ''}`,
          d.delayMs === undefined ? 'MISSED' : formatDuration(d.delayMs),
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function routineResultJson(r: RoutineResult): unknown {
  const iso = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? null : new Date(ms).toISOString();
  return {
    options: r.options,
    timezone: r.tz,
    start: iso(r.start),
    end: iso(r.end),
    residentDays: r.score.residentDays,
    site: r.personas.map((p) => ({
      home: p.homeId,
      resident: p.residentId,
      motionSensor: p.devices.motion !== undefined,
      wanderingRisk: p.wanderingRisk,
    })),
    counts: r.counts,
    rules: r.score.rules.map((s) => ({
      kind: s.kind,
      alerts: s.alerts,
      genuine: s.genuine,
      false: s.false,
      falsePerResidentDay: s.falsePerResidentDay,
      incidents: s.expected,
      detected: s.detected,
      delayMs: {
        median: median(s.delaysMs) ?? null,
        max: s.delaysMs.length > 0 ? Math.max(...s.delaysMs) : null,
      },
    })),
    falseAlerts: r.score.falseAlerts.map((a) => ({
      ...a,
      raisedAt: iso(a.raisedAtMs),
      lastActivity: iso(r.falseAlertContext[a.id]?.lastActivity),
      nextActivity: iso(r.falseAlertContext[a.id]?.nextActivity),
    })),
    falsePerResidentDay: r.score.falsePerResidentDay,
    goal: { falsePerResidentDay: FALSE_ALERT_GOAL_PER_RESIDENT_DAY, met: goalMet(r) },
    incidents: r.score.detections.map((d) => ({
      type: d.incident.type,
      home: d.incident.homeId,
      what: d.incident.what,
      kind: d.expect.kind,
      deviceId: d.expect.deviceId ?? null,
      onset: iso(d.expect.onset),
      alertId: d.alertId ?? null,
      delayMs: d.delayMs ?? null,
    })),
    allDetected: allDetected(r),
    prompts: r.prompts.map((p) => ({
      home: p.homeId,
      requestId: p.requestId,
      at: iso(p.at),
      answerBy: iso(p.answerBy),
      why: p.why,
      asleep: p.asleep,
      answeredAt: iso(p.answeredAt),
    })),
    checkinReport: r.checkins,
    wallMs: r.wallMs,
  };
}
