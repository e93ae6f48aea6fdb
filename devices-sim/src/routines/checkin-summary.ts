import { nextLocalTime } from '../../../hub/src/time/local.js';
import type { RoutineResult } from './run.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** How soon a fall must be found (issue 21): door-only 24.5 h, with a motion sensor 12.5 h, a night fall by the morning check. */
export const FALL_LIMIT_MS = { doorOnly: 24.5 * HOUR, motion: 12.5 * HOUR } as const;
/** The goals: at most one false alert per 90 resident-days (every seed), at most 0.3 prompts per resident-day (average). */
export const FALSE_PER_RESIDENT_DAY_GOAL = 1 / 90;
export const PROMPTS_PER_RESIDENT_DAY_GOAL = 0.3;

export type HomeKind = 'door-only' | 'motion';
export type FallKind = 'door-only' | 'motion, by day' | 'motion, at night';

export interface FallOutcome {
  homeId: string;
  kind: FallKind;
  at: number;
  delayMs: number | null;
  limitMs: number;
  inTime: boolean;
}

export interface KindSummary {
  homes: number;
  residentDays: number;
  falseAlerts: number;
  prompts: number;
  answered: number;
  missed: number;
}

export interface CheckinRunSummary {
  seed: number;
  /** Days lived normally (until a fall), summed over residents: what false alerts are counted over. */
  residentDays: number;
  falseAlerts: number;
  /** Prompts the hub sent (its own report), answered by a check-in, ended by other activity, missed, not sent (day's limit). */
  prompts: { sent: number; answered: number; activity: number; missed: number; capped: number };
  /** What the residents did with the requests they heard (the simulator's side). */
  heard: { total: number; answered: number; out: number; fallen: number; notHeard: number; late: number };
  falls: FallOutcome[];
  byKind: Record<HomeKind, KindSummary>;
  falseGoalMet: boolean;
  fallsInTime: boolean;
}

const kindOf = (r: RoutineResult, homeId: string): HomeKind =>
  r.personas.find((p) => p.homeId === homeId)?.devices.motion ? 'motion' : 'door-only';

/** The check-in figures of one routine run, against the goals of issue 21. */
export function checkinSummary(r: RoutineResult): CheckinRunSummary {
  const fallAt = new Map<string, number>();
  for (const i of r.incidents)
    if (i.type === 'fall') fallAt.set(i.homeId, Math.min(i.at, fallAt.get(i.homeId) ?? i.at));
  const byKind: Record<HomeKind, KindSummary> = {
    'door-only': { homes: 0, residentDays: 0, falseAlerts: 0, prompts: 0, answered: 0, missed: 0 },
    motion: { homes: 0, residentDays: 0, falseAlerts: 0, prompts: 0, answered: 0, missed: 0 },
  };
  let residentDays = 0;
  for (const p of r.personas) {
    const k = byKind[kindOf(r, p.homeId)];
    const days = (Math.min(r.end, fallAt.get(p.homeId) ?? r.end) - r.start) / DAY;
    k.homes++;
    k.residentDays += days;
    residentDays += days;
  }
  for (const a of r.score.falseAlerts) byKind[kindOf(r, a.homeId)].falseAlerts++;
  for (const h of r.checkins.homes) {
    const k = byKind[kindOf(r, h.homeId)];
    k.prompts += h.sent;
    k.answered += h.answered + h.activity;
    k.missed += h.missed;
  }
  const falls = r.score.detections
    .filter((d) => d.incident.type === 'fall')
    .map((d): FallOutcome => {
      const motion = kindOf(r, d.incident.homeId) === 'motion';
      const night = d.incident.night === true;
      const limitMs = night
        ? nextLocalTime(d.incident.at, r.tz, '10:00') - d.incident.at
        : motion
          ? FALL_LIMIT_MS.motion
          : FALL_LIMIT_MS.doorOnly;
      const delayMs = d.delayMs ?? null;
      return {
        homeId: d.incident.homeId,
        kind: night ? 'motion, at night' : motion ? 'motion, by day' : 'door-only',
        at: d.incident.at,
        delayMs,
        limitMs,
        inTime: delayMs !== null && delayMs <= limitMs,
      };
    });
  const t = r.checkins.total;
  const falseAlerts = r.score.falseTotal;
  return {
    seed: r.options.seed,
    residentDays,
    falseAlerts,
    prompts: { sent: t.sent, answered: t.answered, activity: t.activity, missed: t.missed, capped: t.capped },
    heard: {
      total: r.prompts.length,
      answered: r.prompts.filter((p) => p.why === 'answered').length,
      out: r.prompts.filter((p) => p.why === 'out').length,
      fallen: r.prompts.filter((p) => p.why === 'fallen').length,
      notHeard: r.prompts.filter((p) => p.why === 'not heard').length,
      late: r.prompts.filter((p) => p.answeredAt !== null && p.answeredAt > p.answerBy).length,
    },
    falls,
    byKind,
    falseGoalMet: falseAlerts <= residentDays * FALSE_PER_RESIDENT_DAY_GOAL + 1e-9,
    fallsInTime: falls.every((f) => f.inTime),
  };
}
