import type { Prng } from '../util/prng.js';
import type { Persona } from './persona.js';

const MIN = 60_000;

/** Something the resident does that a sensor sees. */
export interface LifeEvent {
  at: number;
  what: 'door-open' | 'door-close' | 'motion';
  /** Part of the night (a bathroom visit), so an incident at night can remove it. */
  night?: boolean;
}

export interface DayPlan {
  /** Local midnight starting the day. */
  dayStart: number;
  wake: number;
  bed: number;
  /** Outings [leave, back]. */
  out: Array<[number, number]>;
  /** Up and at home (not out, not napping): where an incident at home can happen. */
  home: Array<[number, number]>;
  events: LifeEvent[];
}

/** A day's waking or bed time, minutes after local midnight, within ±45 min of the habit. */
function dailyTime(rng: Prng, habit: number, sd: number): number {
  return Math.max(habit - 45, Math.min(habit + 45, rng.normal(habit, sd)));
}

/** Waking and bed time of a day (local midnight `dayStart`), drawn from the person's habits. */
export function sleepTimes(rng: Prng, p: Persona, dayStart: number): { wake: number; bed: number } {
  return {
    wake: dayStart + Math.round(dailyTime(rng, p.wakeMin, p.jitterMin) * MIN),
    bed: dayStart + Math.round(dailyTime(rng, p.bedMin, p.jitterMin) * MIN),
  };
}

/**
 * One day of a resident's life, from waking to going to bed, plus the night that follows it
 * (bathroom visits until `nextWake`). Outings never overlap, never start within 30 minutes of
 * waking, and end at least 30 minutes before bed; doors are always closed within a minute.
 */
export function planDay(
  rng: Prng,
  p: Persona,
  dayStart: number,
  sleep: { wake: number; bed: number },
  nextWake: number,
): DayPlan {
  const at = (minutes: number) => dayStart + Math.round(minutes * MIN);
  const { wake, bed } = sleep;
  const out: Array<[number, number]> = [];
  const free = (from: number, to: number, gap = 20 * MIN) =>
    from >= wake + 30 * MIN &&
    to <= bed - 30 * MIN &&
    out.every(([a, b]) => to + gap <= a || from >= b + gap);
  const tryOuting = (chance: number, leaveFrom: number, leaveTo: number, durFrom: number, durTo: number) => {
    if (!rng.chance(chance)) return;
    const leave = at(rng.between(leaveFrom, leaveTo));
    const back = leave + Math.round(rng.between(durFrom, durTo) * MIN);
    if (free(leave, back)) out.push([leave, back]);
  };
  tryOuting(p.outings.familyDay, 9.5 * 60, 10.5 * 60, 5 * 60, 8 * 60);
  tryOuting(p.outings.market, 8 * 60, 10 * 60, 40, 120);
  tryOuting(p.outings.canteen, 11 * 60 + 10, 11 * 60 + 40, 50, 90);
  tryOuting(p.outings.afternoon, 14.5 * 60, 16 * 60, 40, 150);
  tryOuting(p.outings.evening, 18.75 * 60, 19.75 * 60, 20, 60);
  out.sort((a, b) => a[0] - b[0]);
  const isOut = (t: number) => out.some(([a, b]) => t >= a && t <= b);

  let nap: [number, number] | undefined;
  if (rng.chance(p.napChance)) {
    const start = at(rng.between(13 * 60, 13.75 * 60));
    const end = start + Math.round(rng.between(30, 90) * MIN);
    if (!isOut(start) && !isOut(end) && out.every(([a, b]) => end <= a || start >= b)) nap = [start, end];
  }

  const events: LifeEvent[] = [];
  const door = (t: number, openSeconds: number) => {
    events.push({ at: t, what: 'door-open' }, { at: t + Math.round(openSeconds * 1000), what: 'door-close' });
  };
  for (const [leave, back] of out) {
    door(leave, rng.between(15, 60));
    door(back, rng.between(10, 45));
  }
  // Short door use while at home: taking the rubbish out, a visitor, a delivery.
  const homeAt = (t: number) =>
    t > wake + 10 * MIN && t < bed - 20 * MIN && !isOut(t) && !isOut(t + 60 * MIN);
  if (rng.chance(p.rubbishChance)) {
    const t = at(rng.between(18.5 * 60, 20.5 * 60));
    if (homeAt(t) && t < bed - 30 * MIN) {
      door(t, rng.between(20, 40));
      door(t + Math.round(rng.between(2, 6) * MIN), rng.between(10, 30));
    }
  }
  if (rng.chance(p.visitorChance)) {
    const t = at(rng.between(10 * 60, 17 * 60));
    const leaves = t + Math.round(rng.between(20, 60) * MIN);
    if (homeAt(t) && homeAt(leaves)) {
      door(t, rng.between(20, 60));
      door(leaves, rng.between(20, 60));
    }
  }
  if (rng.chance(p.deliveryChance)) {
    const t = at(rng.between(9 * 60, 19 * 60));
    if (homeAt(t)) door(t, rng.between(30, 90));
  }

  // Up and at home: the day minus outings and the nap.
  const home: Array<[number, number]> = [];
  let cursor = wake;
  const breaks = [...out, ...(nap ? [nap] : [])].sort((a, b) => a[0] - b[0]);
  for (const [a, b] of breaks) {
    if (a > cursor) home.push([cursor, a]);
    cursor = Math.max(cursor, b);
  }
  if (bed > cursor) home.push([cursor, bed]);

  // Motion while up at home: right after waking or coming back, just before leaving, and in between.
  for (const [a, b] of home) {
    let t = a + Math.round(rng.between(0.5, 3) * MIN);
    while (t < b) {
      events.push({ at: t, what: 'motion' });
      t += Math.max(MIN, Math.round(rng.exponential(p.motionEveryMin) * MIN));
    }
    const last = b - Math.round(rng.between(1, 5) * MIN);
    if (last > a) events.push({ at: last, what: 'motion' });
  }

  // The night after this day: bathroom visits between bed and the next morning.
  const visits = rng.poisson(p.bathroomPerNight);
  for (let i = 0; i < visits; i++) {
    const t = Math.round(rng.between(bed + 45 * MIN, nextWake - 30 * MIN));
    if (t <= bed) continue;
    events.push({ at: t, what: 'motion', night: true });
    if (rng.chance(0.5))
      events.push({ at: t + Math.round(rng.between(2, 6) * MIN), what: 'motion', night: true });
  }
  events.sort((a, b) => a.at - b.at);
  return { dayStart, wake, bed, out, home, events };
}

/** Bathroom visits in the night before the first day (the run starts at midnight, the resident asleep). */
export function planFirstNight(rng: Prng, p: Persona, start: number, firstWake: number): LifeEvent[] {
  const events: LifeEvent[] = [];
  const visits = rng.poisson(p.bathroomPerNight / 2);
  for (let i = 0; i < visits; i++) {
    const t = Math.round(rng.between(start + 60 * MIN, firstWake - 30 * MIN));
    if (t > start) events.push({ at: t, what: 'motion', night: true });
  }
  return events.sort((a, b) => a.at - b.at);
}
