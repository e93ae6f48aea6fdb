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

export interface RunPlan {
  start: number;
  end: number;
  actions: PlannedAction[];
  incidents: Incident[];
  /** Activity events (door, motion, SOS, smoke) and heartbeats in the plan. */
  counts: { activity: number; heartbeats: number };
}

export interface PlanOptions {
  rng: Prng;
  personas: Persona[];
  /** Local midnight where the run starts. */
  start: number;
  days: number;
  tz: string;
  incidents: boolean;
  heartbeatMs: number;
}

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
    const type = assigned.get(p.residentId);
    let placed: PlacedIncident | undefined;
    if (type) {
      placed = placeIncident(type, { rng: rng.fork(`incident:${type}`), persona: p, days, end });
      incidents.push(placed.incident);
      const drops = placed.drops;
      events = events.filter((e) => !drops(e));
    }
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
    for (const a of placed?.add ?? []) {
      if (a.at >= end) continue;
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
  return { start: o.start, end, actions, incidents, counts: { activity, heartbeats } };
}
