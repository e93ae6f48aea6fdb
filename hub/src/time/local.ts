import { type LocalParts, localParts, offsetMinutes } from './iso.js';

export function parseHhmm(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Minutes since local midnight of an instant in an IANA zone. */
export function localMinutes(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return p.hour * 60 + p.minute;
}

/** Is the instant inside the local window [start, end)? Windows may cross midnight (22:00–06:00). */
export function inLocalWindow(ms: number, tz: string, start: string, end: string): boolean {
  const t = localMinutes(ms, tz);
  const s = parseHhmm(start);
  const e = parseHhmm(end);
  if (s === e) return false;
  return s < e ? t >= s && t < e : t >= s || t < e;
}

/**
 * The instant of a local wall-clock time in a zone. In a DST gap (02:30 that never happens) the
 * result is the same number of minutes after the gap begins; in an overlap, the first occurrence.
 */
export function localToUtc(
  year: number,
  month: number,
  day: number,
  minutesOfDay: number,
  tz: string,
): number {
  const naive = Date.UTC(year, month - 1, day, Math.floor(minutesOfDay / 60), minutesOfDay % 60);
  // A zone has at most two offsets around a given day: the ones a day before and a day after.
  const offsets = new Set([
    offsetMinutes(naive - 86_400_000, tz),
    offsetMinutes(naive, tz),
    offsetMinutes(naive + 86_400_000, tz),
  ]);
  const matches: number[] = [];
  for (const off of offsets) {
    const at = naive - off * 60_000;
    const p = localParts(at, tz);
    if (p.day === day && p.hour * 60 + p.minute === minutesOfDay) matches.push(at);
  }
  if (matches.length > 0) return Math.min(...matches);
  // In a gap: keep the wall-clock distance from the gap's start, i.e. use the offset before it.
  return naive - Math.min(...offsets) * 60_000;
}

/** The first instant strictly after `afterMs` whose local time is `hhmm`. */
export function nextLocalTime(afterMs: number, tz: string, hhmm: string): number {
  const minutes = parseHhmm(hhmm);
  const p = localParts(afterMs, tz);
  for (let add = 0; add < 3; add++) {
    const d = new Date(Date.UTC(p.year, p.month - 1, p.day + add));
    const at = localToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), minutes, tz);
    if (at > afterMs) return at;
  }
  return afterMs + 24 * 3600_000;
}

/** The latest instant at or before `beforeMs` whose local time is `hhmm`. */
export function previousLocalTime(beforeMs: number, tz: string, hhmm: string): number {
  const minutes = parseHhmm(hhmm);
  const p = localParts(beforeMs, tz);
  for (let sub = 0; sub < 3; sub++) {
    const d = new Date(Date.UTC(p.year, p.month - 1, p.day - sub));
    const at = localToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), minutes, tz);
    if (at <= beforeMs) return at;
  }
  return beforeMs - 24 * 3600_000;
}

/** The local date of wall-clock parts, YYYY-MM-DD (sorts as it reads). */
export function dateKey(p: LocalParts): string {
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The local date of an instant in a zone, YYYY-MM-DD. */
export function localDate(ms: number, tz: string): string {
  return dateKey(localParts(ms, tz));
}
