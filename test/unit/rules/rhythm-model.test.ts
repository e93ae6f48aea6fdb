import { describe, expect, it } from 'vitest';
import { freshRhythm, type HomeRhythm } from '../../../hub/src/model/home-rhythm.js';
import {
  type AskPolicy,
  askAfter,
  askProfile,
  LEARN_WINDOW_DAYS,
  learnedTable,
  MIN_ASK_MS,
  recordSpell,
} from '../../../hub/src/rules/rhythm.js';

// The learned deadline on a synthetic history (rules/rhythm.ts): pure functions, no hub.
const TZ = 'Asia/Shanghai';
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Day 0 is Monday 2026-11-02 (Asia/Shanghai has no DST: a day is 24 h). */
const at = (day: number, hhmm: string) => Date.parse(`2026-11-02T${hhmm}:00+08:00`) + day * 24 * HOUR;

const POLICY: AskPolicy = { maxMs: 24 * HOUR, waitMs: 20 * MIN, learn: true, learnDays: 7 };
const DEFAULT_MS = 24 * HOUR - 20 * MIN;

/** A resident who goes out at 09:00 and is back at 10:00, then is quiet until 16:30 (6 h 30), every day. */
function regular(days: number, r: HomeRhythm = freshRhythm(0)): HomeRhythm {
  for (let d = 0; d < days; d++) {
    recordSpell(r, at(d, '10:00'), at(d, '16:30'), TZ);
    recordSpell(r, at(d, '16:30'), at(d, '19:00'), TZ);
    recordSpell(r, at(d, '19:00'), at(d + 1, '09:00'), TZ);
  }
  return r;
}

describe('the learned deadline', () => {
  it('is the safe default (the maximum less the wait) until learnDays days are seen', () => {
    const r = regular(6);
    expect(learnedTable(r).daysSeen).toBe(6);
    expect(askAfter(r, at(6, '10:00'), TZ, POLICY)).toEqual({ ms: DEFAULT_MS, basis: 'default' });
    // the same day again adds no day
    regular(1, r);
    expect(learnedTable(r).daysSeen).toBe(6);
    recordSpell(r, at(6, '10:00'), at(6, '16:30'), TZ);
    expect(learnedTable(r).daysSeen).toBe(7);
    expect(askAfter(r, at(7, '10:00'), TZ, POLICY).basis).toBe('learned');
  });

  it('follows the usual longest spell of that hour, with a margin: 6 h 30 → ask after 9 h 07 min 30 s', () => {
    const r = regular(10);
    // 6 h 30 is stored as quarter hours begun (27 → 6 h 45), × 1.25 + 1 h = 9 h 26 min 15 s
    const { ms, basis } = askAfter(r, at(10, '10:05'), TZ, POLICY);
    expect(basis).toBe('learned');
    expect(ms).toBe((6 * 60 + 45) * MIN * 1.25 + HOUR);
    // the 19:00 spell lasts 14 h: 14 h 15 × 1.25 + 1 h = 18 h 48 min 45 s
    expect(askAfter(r, at(10, '19:10'), TZ, POLICY).ms).toBe((14 * 60 + 15) * MIN * 1.25 + HOUR);
    // an hour in which no spell ever began (03:00): the default
    expect(askAfter(r, at(10, '03:00'), TZ, POLICY)).toEqual({ ms: DEFAULT_MS, basis: 'default' });
    // never later than the maximum less the wait, never sooner than MIN_ASK_MS
    expect(askAfter(r, at(10, '19:10'), TZ, { ...POLICY, maxMs: 12 * HOUR }).ms).toBe(12 * HOUR - 20 * MIN);
    const busy = freshRhythm(0);
    for (let d = 0; d < 10; d++) recordSpell(busy, at(d, '11:00'), at(d, '11:10'), TZ);
    expect(askAfter(busy, at(10, '11:00'), TZ, POLICY).ms).toBe(MIN_ASK_MS);
  });

  it('one odd long spell is not a habit; the same on one weekday every week is, for that weekday only', () => {
    const r = regular(14);
    // one Wednesday (day 9) the resident stayed in after the market until the next morning
    recordSpell(r, at(9, '10:00'), at(10, '09:00'), TZ);
    const usual = (day: number) => askAfter(r, at(day, '10:05'), TZ, POLICY).ms;
    const base = (6 * 60 + 45) * MIN * 1.25 + HOUR;
    expect(usual(14)).toBe(base); // a Monday
    // …but it counts for Wednesdays (the longest of the same weekday): 23 h capped at the default
    expect(usual(16)).toBe(DEFAULT_MS);
    // a second odd day (a Friday) makes it "second longest of all days": now every weekday waits longer
    recordSpell(r, at(11, '10:00'), at(11, '18:00'), TZ);
    expect(usual(14)).toBe((8 * 60 + 15) * MIN * 1.25 + HOUR);
  });

  it('keeps LEARN_WINDOW_DAYS days: a routine given up a month ago is forgotten', () => {
    const r = freshRhythm(0);
    for (let d = 0; d < 10; d++) recordSpell(r, at(d, '14:00'), at(d, '20:00'), TZ);
    for (let d = 10; d < 10 + LEARN_WINDOW_DAYS; d++) recordSpell(r, at(d, '14:00'), at(d, '15:00'), TZ);
    expect(Object.keys(r.days)).toHaveLength(LEARN_WINDOW_DAYS);
    // only the 1-hour afternoons are left (1 h stored as 1 h 15): 1 h 15 × 1.25 + 1 h
    expect(askAfter(r, at(40, '14:00'), TZ, POLICY).ms).toBe((75 * 1.25 + 60) * MIN);
  });

  it('a staff override wins, within 1 h and the maximum less the wait; the profile shows it', () => {
    const r = regular(10);
    r.override = { askAfterHours: 5, by: 'supervisor1', at: 0 };
    expect(askAfter(r, at(10, '10:05'), TZ, POLICY)).toEqual({ ms: 5 * HOUR, basis: 'override' });
    r.override.askAfterHours = 30;
    expect(askAfter(r, at(10, '10:05'), TZ, POLICY).ms).toBe(DEFAULT_MS);
    const profile = askProfile(r, POLICY);
    expect(profile.basis).toBe('override');
    expect(profile.minutes.flat().every((m) => m === DEFAULT_MS / MIN)).toBe(true);
    r.override = null;
    const learned = askProfile(r, POLICY);
    expect(learned.basis).toBe('learned');
    expect(learned.minutes[1]?.[10]).toBe(((6 * 60 + 45) * 1.25 + 60) | 0);
  });

  it('learning off: always the default', () => {
    const r = regular(10);
    expect(askAfter(r, at(10, '10:05'), TZ, { ...POLICY, learn: false })).toEqual({
      ms: DEFAULT_MS,
      basis: 'default',
    });
  });
});
