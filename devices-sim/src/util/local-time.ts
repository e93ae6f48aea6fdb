import { localParts } from '../../../hub/src/time/iso.js';
import { localToUtc } from '../../../hub/src/time/local.js';

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;

/** "2026-11-26 18:00" or "2026-11-26T18:00[:ss]", a wall-clock time in `tz` → epoch ms; undefined if malformed. */
export function parseLocalDateTime(text: string, tz: string): number | undefined {
  const m = LOCAL_DATE_TIME.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const at = localToUtc(year, month, day, hour * 60 + minute, tz) + second * 1000;
  // Reject dates that do not exist (2026-02-30): the wall clock would read another day.
  return localParts(at, tz).day === day ? at : undefined;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Epoch ms → "2026-11-26 18:00" in `tz` (seconds shown only when not zero). */
export function formatLocal(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const base = `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
  return p.second === 0 ? base : `${base}:${pad(p.second)}`;
}

/** Epoch ms → "18:00" (or "18:00:30") in `tz`. */
export function formatLocalTime(ms: number, tz: string): string {
  return formatLocal(ms, tz).slice(11);
}

/** Local midnight starting the day that contains `ms`. */
export function localMidnight(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return localToUtc(p.year, p.month, p.day, 0, tz);
}
