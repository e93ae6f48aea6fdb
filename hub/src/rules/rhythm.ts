import type { HomeRhythm } from '../model/home-rhythm.js';
import { localParts } from '../time/iso.js';
import { dateKey } from '../time/local.js';

/**
 * A home's rhythm: the quiet spells its resident usually has, by local hour and weekday, learned
 * from the home's own activity (door, motion, SOS, check-ins). Pure functions over the stored record
 * (model/home-rhythm.ts); the inactivity rule decides with them when a quiet spell is long enough
 * to ask the resident (rules/inactivity.ts). docs/rules.md, "Check-ins", says the same for users.
 */

const MINUTE = 60_000;
const HOUR = 3600_000;
const QUARTER = 15 * MINUTE;
/** Days of history kept and learned from. */
export const LEARN_WINDOW_DAYS = 28;
/** Days with a quiet spell beginning around an hour before that hour has a learned value. */
const MIN_SAMPLES = 3;
/** Ask after the usual longest spell × MARGIN + PAD: a spell a little longer than usual is no reason to ask. */
const MARGIN = 1.25;
const PAD = 60 * MINUTE;
/** Never ask sooner than this after the last activity (learned or set by staff). */
export const MIN_ASK_MS = 2 * HOUR;
/** The shortest override staff may set. */
export const MIN_OVERRIDE_HOURS = 1;
/** Back from `away` after at least this long: the resident may have a new routine (hospital), so learn afresh. */
export const RELEARN_AFTER_AWAY_MS = 3 * 24 * HOUR;
const MAX_VALUE = 4 * 72;

const pad2 = (n: number) => String(n).padStart(2, '0');

/** 0 = Sunday … 6 = Saturday, of a local date key. */
export function weekdayOf(key: string): number {
  const [y, m, d] = key.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay();
}

/** The date key `days` days before the one of `key`. */
function daysBefore(key: string, days: number): string {
  const [y, m, d] = key.split('-').map(Number);
  const t = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) - days));
  return `${t.getUTCFullYear()}-${pad2(t.getUTCMonth() + 1)}-${pad2(t.getUTCDate())}`;
}

/** A spell's length as stored: quarter hours begun (1 = under 15 minutes). */
const toValue = (ms: number) => Math.min(MAX_VALUE, 1 + Math.floor(Math.max(0, ms) / QUARTER));
/** The stored value as minutes (the upper end of its quarter: errs towards a longer spell). */
const toMinutes = (v: number) => v * 15;

/**
 * A quiet spell [start, end) closed: note it under the local date and hour it began, if it is the
 * longest of that hour so far. True when the record changed (then it must be saved).
 */
export function recordSpell(r: HomeRhythm, start: number, end: number, tz: string): boolean {
  const p = localParts(start, tz);
  const key = dateKey(p);
  const v = toValue(end - start);
  let day = r.days[key];
  if (day && (day[p.hour] ?? 0) >= v) return false;
  if (!day) {
    day = new Array<number>(24).fill(0);
    r.days[key] = day;
    const oldest = daysBefore(key, LEARN_WINDOW_DAYS - 1);
    for (const k of Object.keys(r.days)) if (k < oldest) delete r.days[k];
  }
  day[p.hour] = v;
  r.rev++;
  return true;
}

/** Forget every learned spell (a new routine): the safe default applies until enough days are seen again. */
export function forgetSpells(r: HomeRhythm, now: number): void {
  r.days = {};
  r.rev++;
  r.learnFrom = now;
}

export interface LearnedTable {
  /** Days with any learned spell. */
  daysSeen: number;
  /**
   * [weekday 0 = Sunday … 6][local hour] → the usual longest quiet spell that begins around then,
   * in minutes; null where too few days were seen.
   */
  usual: Array<Array<number | null>>;
}

const cache = new WeakMap<HomeRhythm, { rev: number; table: LearnedTable }>();

/**
 * What was learned: for each weekday and hour, the longest quiet spell that began within an hour
 * of it, per day; then the second longest of all days (one odd day is not a habit) or the longest of
 * the same weekday (a weekly habit), whichever is longer. Cached per record until it changes.
 */
export function learnedTable(r: HomeRhythm): LearnedTable {
  const hit = cache.get(r);
  if (hit && hit.rev === r.rev) return hit.table;
  const keys = Object.keys(r.days).sort();
  const weekdays = keys.map(weekdayOf);
  let daysSeen = 0;
  for (const k of keys) if (r.days[k]?.some((v) => v > 0)) daysSeen++;
  const usual: Array<Array<number | null>> = Array.from({ length: 7 }, () =>
    new Array<number | null>(24).fill(null),
  );
  for (let h = 0; h < 24; h++) {
    const all: number[] = [];
    const byWeekday: number[][] = Array.from({ length: 7 }, () => []);
    keys.forEach((k, i) => {
      const day = r.days[k] ?? [];
      let best = 0;
      for (let x = Math.max(0, h - 1); x <= Math.min(23, h + 1); x++) best = Math.max(best, day[x] ?? 0);
      if (best === 0) return;
      all.push(toMinutes(best));
      byWeekday[weekdays[i] ?? 0]?.push(toMinutes(best));
    });
    if (all.length < MIN_SAMPLES) continue;
    all.sort((a, b) => b - a);
    const second = all[1] ?? 0;
    usual.forEach((row, w) => {
      row[h] = Math.max(second, ...(byWeekday[w] ?? []));
    });
  }
  const table = { daysSeen, usual };
  cache.set(r, { rev: r.rev, table });
  return table;
}

export interface AskPolicy {
  /** The longest a fall may go unseen in this home (inactivity.hoursWithMotion or hoursDoorOnly), ms. */
  maxMs: number;
  /** How long the hub waits for an answer, ms. */
  waitMs: number;
  /** Requests before alarming (checkin.requests; 1 when absent): the first is asked early enough for all of them. */
  requests?: number;
  learn: boolean;
  learnDays: number;
}

/** The latest a first request may go after the last activity: room for every request's wait before the maximum. */
export const latestAskMs = (policy: AskPolicy) =>
  Math.max(0, policy.maxMs - policy.waitMs * Math.max(1, policy.requests ?? 1));

/**
 * The first request for a learned `usual` (minutes): the silence is alarmed by usual × MARGIN + PAD
 * plus one wait, whatever the number of requests; they are spread before it (the first goes the
 * waits of the others earlier), so asking again never finds a fall later.
 */
function learnedAskMs(usual: number, policy: AskPolicy, latest: number): number {
  const extra = policy.waitMs * (Math.max(1, policy.requests ?? 1) - 1);
  return Math.min(latest, Math.max(MIN_ASK_MS, usual * MINUTE * MARGIN + PAD - extra));
}

export type AskBasis = 'override' | 'learned' | 'default';

/**
 * How long after the last activity (at `since`) the hub asks: the staff override, or what was
 * learned for that weekday and hour (with a margin), or the safe default while learning; never
 * later than the maximum less the waits of all its requests, so that silence is alarmed by the maximum.
 */
export function askAfter(
  r: HomeRhythm,
  since: number,
  tz: string,
  policy: AskPolicy,
): { ms: number; basis: AskBasis } {
  const latest = latestAskMs(policy);
  if (r.override)
    return {
      ms: Math.min(latest, Math.max(MIN_OVERRIDE_HOURS * HOUR, r.override.askAfterHours * HOUR)),
      basis: 'override',
    };
  const table = learnedTable(r);
  if (!policy.learn || table.daysSeen < policy.learnDays) return { ms: latest, basis: 'default' };
  const p = localParts(since, tz);
  const usual = table.usual[weekdayOf(dateKey(p))]?.[p.hour] ?? null;
  if (usual === null) return { ms: latest, basis: 'default' };
  return { ms: learnedAskMs(usual, policy, latest), basis: 'learned' };
}

/** The whole profile staff see: ask-after minutes for every weekday and hour. */
export function askProfile(r: HomeRhythm, policy: AskPolicy): { minutes: number[][]; basis: AskBasis } {
  const table = learnedTable(r);
  const latest = latestAskMs(policy);
  const basis: AskBasis = r.override
    ? 'override'
    : policy.learn && table.daysSeen >= policy.learnDays
      ? 'learned'
      : 'default';
  const minutes = table.usual.map((row) =>
    row.map((usual) => {
      if (r.override)
        return (
          Math.min(latest, Math.max(MIN_OVERRIDE_HOURS * HOUR, r.override.askAfterHours * HOUR)) / MINUTE
        );
      if (basis === 'default' || usual === null) return latest / MINUTE;
      return Math.round(learnedAskMs(usual, policy, latest) / MINUTE);
    }),
  );
  return { minutes, basis };
}
