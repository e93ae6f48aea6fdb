import { nextLocalTime } from '../../../hub/src/time/local.js';
import { formatLocal, parseLocalDateTime } from '../util/local-time.js';

export interface Timing {
  at?: string | undefined;
  after?: number | undefined;
}

export interface Problem {
  path: string;
  message: string;
}

/**
 * When a timing falls, counted from `prev`: `after: 10m` is 10 minutes later; `at: "23:05"` is the
 * next 23:05 local time at or after `prev`; `at: "2026-11-27 07:00"` is that instant, which must not
 * lie before `prev`.
 */
export function resolveTiming(t: Timing, prev: number, tz: string): { at: number } | { problem: string } {
  if (t.after !== undefined) return { at: prev + t.after };
  const at = t.at ?? '';
  if (/^\d{2}:\d{2}$/.test(at)) return { at: nextLocalTime(prev - 1, tz, at) };
  const abs = parseLocalDateTime(at, tz);
  if (abs === undefined) return { problem: `"${at}" is not a date-time that exists in ${tz}` };
  if (abs < prev)
    return {
      problem: `${at} is before the previous step (${formatLocal(prev, tz)}): steps go forward in time`,
    };
  return { at: abs };
}

/** Times of every step, in order; problems by path (timeline[i].at). */
export function resolveTimeline(
  steps: readonly Timing[],
  startMs: number,
  tz: string,
): { times: number[]; problems: Problem[] } {
  const times: number[] = [];
  const problems: Problem[] = [];
  let prev = startMs;
  steps.forEach((step, i) => {
    const r = resolveTiming(step, prev, tz);
    if ('problem' in r) {
      problems.push({ path: `timeline[${i}].at`, message: r.problem });
      times.push(prev);
      return;
    }
    times.push(r.at);
    prev = r.at;
  });
  return { times, problems };
}
