import { type CheckinCounts, COUNT_KEYS, type HomeRhythm, zeroCounts } from '../model/home-rhythm.js';
import { localDate } from '../time/local.js';

export interface HomeCheckins extends CheckinCounts {
  homeId: string;
  address: string;
  grid: string;
  /** Answered by the resident (a check-in, or other activity) out of the prompts that ended; null without any. */
  answerRate: number | null;
}

export interface CheckinReport {
  homes: HomeCheckins[];
  total: CheckinCounts;
}

function add(into: CheckinCounts, c: CheckinCounts): void {
  for (const k of COUNT_KEYS) into[k] += c[k] ?? 0;
}

/** A home's prompts over the local days from `fromMs` to just before `toMs` (counted on the day each was sent). */
export function countsBetween(
  r: HomeRhythm | undefined,
  fromMs: number,
  toMs: number,
  tz: string,
): CheckinCounts {
  const out = zeroCounts();
  if (!r || toMs <= fromMs) return out;
  const first = localDate(fromMs, tz);
  const last = localDate(toMs - 1, tz);
  for (const [day, c] of Object.entries(r.counts)) if (day >= first && day <= last) add(out, c);
  return out;
}

export function answerRate(c: CheckinCounts): number | null {
  const ended = c.answered + c.activity + c.missed;
  return ended === 0 ? null : (c.answered + c.activity) / ended;
}

/**
 * Check-in prompts per home: sent, answered (a check-in press), ended by other activity, missed
 * (an alert followed), and prompts not sent because the day's limit was reached. Homes with the
 * most misses first, then the lowest answer rate: the residents who need a visit rather than a beep.
 */
export function checkinReport(
  homes: ReadonlyArray<{
    id: string;
    address: string;
    grid: string;
    tz: string;
    rhythm: HomeRhythm | undefined;
  }>,
  fromMs: number,
  toMs: number,
): CheckinReport {
  const total = zeroCounts();
  const rows = homes.map((h): HomeCheckins => {
    const c = countsBetween(h.rhythm, fromMs, toMs, h.tz);
    add(total, c);
    return { homeId: h.id, address: h.address, grid: h.grid, ...c, answerRate: answerRate(c) };
  });
  rows.sort(
    (a, b) =>
      b.missed - a.missed ||
      (a.answerRate ?? 2) - (b.answerRate ?? 2) ||
      b.sent - a.sent ||
      a.homeId.localeCompare(b.homeId),
  );
  return { homes: rows, total };
}
