import type { AlertKind } from '../../../hub/src/model/alert.js';
import type { DeviceAction } from '../drill/actions.js';
import type { Prng } from '../util/prng.js';
import type { DayPlan, LifeEvent } from './life.js';
import type { Persona } from './persona.js';

const MIN = 60_000;
const HOUR = 3600_000;

export const INCIDENT_TYPES = ['fall', 'fire', 'wandering', 'sos', 'battery'] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];

/** An alert an incident must cause, and when the condition began (for the detection delay). */
export interface IncidentExpectation {
  kind: AlertKind;
  deviceId?: string;
  onset: number;
}

export interface Incident {
  type: IncidentType;
  homeId: string;
  residentId: string;
  at: number;
  what: string;
  expects: IncidentExpectation[];
  /** A fall at night (on the way to the bathroom), which the morning check must find. */
  night?: boolean;
}

/** A device action the incident adds to the resident's day. */
export interface AddedAction {
  at: number;
  deviceId: string;
  action: DeviceAction;
  level?: number;
}

export interface PlacedIncident {
  incident: Incident;
  /** Life events the incident takes away (everything after a fall; the night while wandering). */
  drops: (e: LifeEvent) => boolean;
  add: AddedAction[];
  /** A device whose battery runs down: its regular heartbeats stop at `from`; `add` carries the reports. */
  battery?: { deviceId: string; from: number };
}

export interface IncidentContext {
  rng: Prng;
  persona: Persona;
  days: DayPlan[];
  end: number;
}

/** A time up and at home within [fromMin, toMin] minutes after the day's midnight, or undefined. */
function homeTime(rng: Prng, day: DayPlan, fromMin: number, toMin: number): number | undefined {
  const lo = day.dayStart + fromMin * MIN;
  const hi = day.dayStart + toMin * MIN;
  const spans = day.home
    .map(([a, b]) => [Math.max(a, lo), Math.min(b, hi)] as const)
    .filter(([a, b]) => b - a > 5 * MIN);
  const total = spans.reduce((n, [a, b]) => n + (b - a), 0);
  if (total === 0) return undefined;
  let x = rng.between(0, total);
  for (const [a, b] of spans) {
    if (x <= b - a) return Math.round(a + x);
    x -= b - a;
  }
  return undefined;
}

/** Try the preferred days in a seeded order; the first that has a fitting time wins. */
function firstFit(
  ctx: IncidentContext,
  dayIndexes: number[],
  fromMin: number,
  toMin: number,
): number | undefined {
  const order = ctx.rng.shuffle(dayIndexes);
  for (const d of order) {
    const day = ctx.days[d];
    const t = day ? homeTime(ctx.rng, day, fromMin, toMin) : undefined;
    if (t !== undefined) return t;
  }
  return undefined;
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Wandering is injected only where the site can see it: a resident flagged at risk, or a home with a motion sensor. */
export function canWander(p: Persona): boolean {
  return p.wanderingRisk || p.devices.motion !== undefined;
}

/**
 * Where and when an incident happens, and what it changes in the resident's events. Times are
 * chosen so the site has time to detect it before the run ends (a door-only home needs 24 h to
 * notice a fall).
 */
export function placeIncident(type: IncidentType, ctx: IncidentContext): PlacedIncident {
  const { rng, persona: p } = ctx;
  const n = ctx.days.length;
  const base = { type, homeId: p.homeId, residentId: p.residentId };
  switch (type) {
    case 'fall': {
      const at =
        firstFit(ctx, range(0, Math.max(0, n - 2)), 9 * 60, 18 * 60) ??
        (ctx.days[0]?.wake ?? ctx.end - 30 * HOUR) + HOUR;
      return {
        incident: {
          ...base,
          at,
          what: 'falls at home; no activity from then on',
          expects: [{ kind: 'inactivity', onset: at }],
        },
        drops: (e) => e.at > at,
        add: p.devices.motion ? [{ at, deviceId: p.devices.motion, action: 'motion' }] : [],
      };
    }
    case 'fire': {
      const cooking = rng.chance(0.5) ? [11 * 60, 12.5 * 60] : [17 * 60, 18.5 * 60];
      const at =
        firstFit(ctx, range(0, n - 1), cooking[0] ?? 660, cooking[1] ?? 750) ??
        firstFit(ctx, range(0, n - 1), 0, 1440);
      const t = at ?? (ctx.days[0]?.wake ?? 0) + HOUR;
      return {
        incident: {
          ...base,
          at: t,
          what: 'a pan catches fire while cooking',
          expects: [{ kind: 'smoke', deviceId: p.devices.smoke, onset: t }],
        },
        drops: () => false,
        add: [
          { at: t, deviceId: p.devices.smoke, action: 'smoke' },
          { at: t + Math.round(rng.between(10, 25) * MIN), deviceId: p.devices.smoke, action: 'smoke-clear' },
        ],
      };
    }
    case 'sos': {
      const t = firstFit(ctx, range(0, n - 1), 8 * 60, 21 * 60) ?? (ctx.days[0]?.wake ?? 0) + HOUR;
      return {
        incident: {
          ...base,
          at: t,
          what: 'presses the SOS button (feels unwell)',
          expects: [{ kind: 'sos', deviceId: p.devices.sos, onset: t }],
        },
        drops: () => false,
        add: [{ at: t, deviceId: p.devices.sos, action: 'press' }],
      };
    }
    case 'wandering': {
      // Leaves between 01:00 and 03:30 after one of the nights, brought back 60-90 minutes later.
      const d = rng.int(0, Math.max(0, n - 2));
      const nextMidnight = (ctx.days[d + 1] ?? ctx.days[d])?.dayStart ?? ctx.end - 24 * HOUR;
      const at = nextMidnight + Math.round(rng.between(60, 210) * MIN);
      const back = at + Math.round(rng.between(60, 90) * MIN);
      const add: AddedAction[] = [
        { at, deviceId: p.devices.door, action: 'open' },
        { at: at + Math.round(rng.between(20, 50) * 1000), deviceId: p.devices.door, action: 'close' },
        { at: back, deviceId: p.devices.door, action: 'open' },
        { at: back + 30_000, deviceId: p.devices.door, action: 'close' },
      ];
      if (p.devices.motion) add.push({ at: back + MIN, deviceId: p.devices.motion, action: 'motion' });
      return {
        incident: {
          ...base,
          at,
          what: 'leaves home at night and does not come back by herself',
          expects: [{ kind: 'night_exit', deviceId: p.devices.door, onset: at }],
        },
        drops: (e) => e.at >= at - 15 * MIN && e.at <= back + 5 * MIN,
        add,
      };
    }
    case 'battery': {
      const deviceId = rng.chance(0.5) ? p.devices.sos : p.devices.smoke;
      // Reports 26 %, 23 %, 20 % (low), … 2 % hourly, then nothing: the battery is dead.
      const from =
        Math.round(rng.between(ctx.days[0]?.dayStart ?? 0, ctx.end - 13 * HOUR) / MIN) * MIN + 2 * HOUR;
      const levels = [26, 23, 20, 17, 14, 11, 8, 5, 2];
      const add: AddedAction[] = levels.map((level, i) => ({
        at: from + i * HOUR,
        deviceId,
        action: 'battery',
        level,
      }));
      const lastReport = from + (levels.length - 1) * HOUR;
      add.push({ at: lastReport + MIN, deviceId, action: 'silent' });
      return {
        incident: {
          ...base,
          at: from,
          what: `the battery of ${deviceId} runs down and dies`,
          expects: [
            { kind: 'battery_low', deviceId, onset: from + 2 * HOUR },
            { kind: 'device_offline', deviceId, onset: lastReport },
          ],
        },
        drops: () => false,
        add,
        battery: { deviceId, from },
      };
    }
  }
}

/**
 * A fall late in the run (`--falls`): on one of the days from `fromDay` to the day before last, by
 * day while up and at home (09:00-18:00) or, when `night`, during a bathroom visit at night (homes
 * with a motion sensor: the visit's movement is the last sign). No activity from then on.
 */
export function placeLateFall(ctx: IncidentContext, fromDay: number, night: boolean): PlacedIncident {
  const { rng, persona: p } = ctx;
  const n = ctx.days.length;
  const base = { type: 'fall' as const, homeId: p.homeId, residentId: p.residentId };
  const dayIndexes = range(Math.min(fromDay, Math.max(0, n - 2)), Math.max(0, n - 2));
  if (night && p.devices.motion) {
    for (const d of rng.shuffle(dayIndexes)) {
      const day = ctx.days[d];
      const next = ctx.days[d + 1];
      if (!day || !next) continue;
      const visits = day.events.filter((e) => e.night && e.what === 'motion' && e.at < next.wake);
      const visit = visits.length > 0 ? rng.pick(visits) : undefined;
      if (!visit) continue;
      const at = visit.at;
      return {
        incident: {
          ...base,
          at,
          night: true,
          what: 'falls at night on the way to the bathroom; no activity from then on',
          expects: [{ kind: 'inactivity', onset: at }],
        },
        drops: (e) => e.at > at,
        add: [],
      };
    }
  }
  const at =
    firstFit(ctx, dayIndexes, 9 * 60, 18 * 60) ??
    (ctx.days[dayIndexes[0] ?? 0]?.wake ?? ctx.end - 30 * HOUR) + HOUR;
  return {
    incident: {
      ...base,
      at,
      what: 'falls at home late in the run; no activity from then on',
      expects: [{ kind: 'inactivity', onset: at }],
    },
    drops: (e) => e.at > at,
    add: p.devices.motion ? [{ at, deviceId: p.devices.motion, action: 'motion' }] : [],
  };
}
