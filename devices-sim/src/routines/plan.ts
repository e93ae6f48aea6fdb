import { localParts } from '../../../hub/src/time/iso.js';
import { localToUtc } from '../../../hub/src/time/local.js';
import type { DeviceAction } from '../drill/actions.js';
import type { Prng } from '../util/prng.js';
import {
  canWander,
  INCIDENT_TYPES,
  type Incident,
  type IncidentType,
  type PlacedIncident,
  placeIncident,
  placeLateFall,
} from './incidents.js';
import { type DayPlan, type LifeEvent, planDay, planFirstNight, sleepTimes } from './life.js';
import type { Persona } from './persona.js';

/** One thing a device does in the run. */
export interface PlannedAction {
  at: number;
  homeId: string;
  deviceId: string;
  action: DeviceAction;
  level?: number;
}

/** Where a resident is, for answering a check-in request: out (or wandering), asleep, or fallen. */
export interface Presence {
  out: Array<[number, number]>;
  asleep: Array<[number, number]>;
  /** Fallen from then on (an injected fall). */
  fallenAt?: number;
}

export interface RunPlan {
  start: number;
  end: number;
  actions: PlannedAction[];
  incidents: Incident[];
  /** Activity events (door, motion, SOS, smoke) and heartbeats in the plan. */
  counts: { activity: number; heartbeats: number };
  /** Per home. */
  presence: Record<string, Presence>;
}

export interface PlanOptions {
  rng: Prng;
  personas: Persona[];
  /** Local midnight where the run starts. */
  start: number;
  days: number;
  tz: string;
  incidents: boolean;
  /**
   * Every resident falls once late in the run (from FALL_WINDOW of it on): by day, or, in one
   * home with a motion sensor in three, at night; the other incidents come before that window.
   */
  falls?: boolean;
  heartbeatMs: number;
}

/** With `falls`, the falls happen in the last quarter of the run (other incidents before it). */
export const FALL_WINDOW = 0.75;

/** Local midnight `d` days after the one at `start` (DST-safe: by calendar date, not by 24 h steps). */
export function dayStart(start: number, d: number, tz: string): number {
  const p = localParts(start, tz);
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day + d));
  return localToUtc(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 0, tz);
}

/** Which incident each resident gets: wandering to residents the site can watch for it, the others in turn. */
function assignIncidents(rng: Prng, personas: Persona[]): Map<string, IncidentType> {
  const out = new Map<string, IncidentType>();
  const order = rng.shuffle(personas);
  const wanderers = Math.ceil(personas.length / INCIDENT_TYPES.length);
  // Those flagged at risk are the likely wanderers; then residents whose motion sensor can tell.
  const candidates = [
    ...order.filter((p) => p.wanderingRisk),
    ...order.filter((p) => !p.wanderingRisk && canWander(p)),
  ];
  for (const p of candidates.slice(0, wanderers)) out.set(p.residentId, 'wandering');
  const others = INCIDENT_TYPES.filter((t) => t !== 'wandering');
  let i = 0;
  for (const p of order) {
    if (out.has(p.residentId)) continue;
    out.set(p.residentId, others[i % others.length] ?? 'sos');
    i++;
  }
  return out;
}

/**
 * The whole run as device actions in time order: every resident's days (doors, motion), the
 * incidents (when asked for) with what they change, and hourly heartbeats carrying each device's
 * battery level.
 */
export function planRun(o: PlanOptions): RunPlan {
  const end = dayStart(o.start, o.days, o.tz);
  const assigned = o.incidents
    ? assignIncidents(o.rng.fork('incidents'), o.personas)
    : new Map<string, IncidentType>();
  const actions: PlannedAction[] = [];
  const incidents: Incident[] = [];
  const presence: Record<string, Presence> = {};
  let activity = 0;
  let heartbeats = 0;
  for (const p of o.personas) {
    const rng = o.rng.fork(`resident:${p.residentId}`);
    const sleep = Array.from({ length: o.days + 1 }, (_, d) =>
      sleepTimes(rng.fork(`sleep:${d}`), p, dayStart(o.start, d, o.tz)),
    );
    const days: DayPlan[] = [];
    for (let d = 0; d < o.days; d++) {
      const today = sleep[d];
      const next = sleep[d + 1];
      if (!today || !next) continue;
      days.push(planDay(rng.fork(`day:${d}`), p, dayStart(o.start, d, o.tz), today, next.wake));
    }
    let events: LifeEvent[] = [
      ...planFirstNight(rng.fork('night:0'), p, o.start, sleep[0]?.wake ?? o.start),
      ...days.flatMap((d) => d.events),
    ];
    const fallFrom = o.falls ? Math.max(1, Math.floor(o.days * FALL_WINDOW)) : o.days;
    const type = assigned.get(p.residentId);
    let placed: PlacedIncident | undefined;
    // With late falls, a resident's usual fall is that one; other incidents come before the window.
    if (type && !(o.falls && type === 'fall')) {
      const before = o.falls
        ? { days: days.slice(0, fallFrom), end: dayStart(o.start, fallFrom, o.tz) }
        : { days, end };
      placed = placeIncident(type, { rng: rng.fork(`incident:${type}`), persona: p, ...before });
      incidents.push(placed.incident);
    }
    let fall: PlacedIncident | undefined;
    if (o.falls) {
      const night = p.devices.motion !== undefined && rng.fork('fall-night').chance(1 / 3);
      fall = placeLateFall({ rng: rng.fork('late-fall'), persona: p, days, end }, fallFrom, night);
      incidents.push(fall.incident);
    }
    for (const x of [placed, fall]) {
      if (!x) continue;
      const drops = x.drops;
      events = events.filter((e) => !drops(e));
    }
    presence[p.homeId] = presenceOf(o.start, sleep[0]?.wake ?? o.start, days, placed, fall);
    for (const e of events) {
      if (e.at >= end) continue;
      if (e.what === 'motion') {
        if (!p.devices.motion) continue;
        actions.push({ at: e.at, homeId: p.homeId, deviceId: p.devices.motion, action: 'motion' });
      } else {
        actions.push({
          at: e.at,
          homeId: p.homeId,
          deviceId: p.devices.door,
          action: e.what === 'door-open' ? 'open' : 'close',
        });
      }
      activity++;
    }
    for (const a of [...(placed?.add ?? []), ...(fall?.add ?? [])]) {
      if (a.at >= end || (fall && a.at > fall.incident.at)) continue;
      actions.push({ ...a, homeId: p.homeId });
      if (a.action !== 'battery' && a.action !== 'silent') activity++;
    }
    // Hourly check-ins with each device's battery level (steady over a few days).
    const deviceIds = [
      p.devices.sos,
      p.devices.door,
      p.devices.smoke,
      ...(p.devices.motion ? [p.devices.motion] : []),
    ];
    const hbRng = rng.fork('batteries');
    for (const deviceId of deviceIds) {
      const level = Math.round(hbRng.between(55, 100));
      const stopAt = placed?.battery?.deviceId === deviceId ? placed.battery.from : Number.POSITIVE_INFINITY;
      for (let t = o.start + o.heartbeatMs; t <= end && t < stopAt; t += o.heartbeatMs) {
        actions.push({ at: t, homeId: p.homeId, deviceId, action: 'battery', level });
        heartbeats++;
      }
    }
  }
  actions.sort((a, b) => a.at - b.at);
  return { start: o.start, end, actions, incidents, counts: { activity, heartbeats }, presence };
}

/** Out (outings, night wandering), asleep (bed to the next waking), fallen: from the days and incidents. */
function presenceOf(
  start: number,
  firstWake: number,
  days: readonly DayPlan[],
  placed: PlacedIncident | undefined,
  fall: PlacedIncident | undefined,
): Presence {
  const out: Array<[number, number]> = days.flatMap((d) => d.out);
  const asleep: Array<[number, number]> = [[start, firstWake]];
  days.forEach((d, i) => {
    asleep.push([d.bed, days[i + 1]?.wake ?? d.bed + 9 * 3600_000]);
  });
  const inc = placed?.incident;
  if (inc?.type === 'wandering') {
    const back = placed?.add.find((a, i) => i > 0 && a.action === 'open')?.at ?? inc.at + 3600_000;
    out.push([inc.at, back]);
  }
  const fallenAt = fall?.incident.at ?? (inc?.type === 'fall' ? inc.at : undefined);
  return { out, asleep, ...(fallenAt === undefined ? {} : { fallenAt }) };
}
