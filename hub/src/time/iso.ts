const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock fields straight from Intl (slow: a few µs per call). */
function intlParts(ms: number, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 1970,
    month: out.month ?? 1,
    day: out.day ?? 1,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** The zone's exact offset from UTC at that instant, in ms (whole seconds: old LMT offsets have them). */
function intlOffsetMs(ms: number, timeZone: string): number {
  const p = intlParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

const HOUR = 3600_000;
/** A zone's offset per UTC hour; NaN for an hour in which the offset changes (a DST transition). */
const offsetCache = new Map<string, Map<number, number>>();
const CACHED_HOURS = 1024;

/**
 * Offset of the zone at an instant, in ms, cached per zone and UTC hour. An hour is cached only when
 * the offset is the same at its first and its last millisecond (zones change offset at most once in an
 * hour); an hour with a transition, wherever in the hour it falls, is always asked of Intl.
 */
function zoneOffsetMs(ms: number, timeZone: string): number {
  const hour = Math.floor(ms / HOUR);
  let zone = offsetCache.get(timeZone);
  if (!zone) {
    zone = new Map();
    offsetCache.set(timeZone, zone);
  }
  let off = zone.get(hour);
  if (off === undefined) {
    const first = intlOffsetMs(hour * HOUR, timeZone);
    off = first === intlOffsetMs(hour * HOUR + HOUR - 1, timeZone) ? first : Number.NaN;
    if (zone.size >= CACHED_HOURS) zone.clear();
    zone.set(hour, off);
  }
  return Number.isNaN(off) ? intlOffsetMs(ms, timeZone) : off;
}

/** Wall-clock fields of an instant in an IANA zone. */
export function localParts(ms: number, timeZone: string): LocalParts {
  const d = new Date(ms + zoneOffsetMs(ms, timeZone));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** Offset of the zone from UTC at that instant, in minutes (Asia/Shanghai → 480). */
export function offsetMinutes(ms: number, timeZone: string): number {
  return Math.round(zoneOffsetMs(ms, timeZone) / 60_000);
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** ISO 8601 with the zone's offset: 2026-11-26T09:30:00.000+08:00 (PROTOCOL.md "Times on the wire"). */
export function formatIso(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  const off = offsetMinutes(ms, timeZone);
  const sign = off < 0 ? '-' : '+';
  const millis = ((ms % 1000) + 1000) % 1000;
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}.${pad(millis, 3)}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}
