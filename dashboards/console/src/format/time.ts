import type { Translate } from '../i18n/i18n';

const pad = (n: number) => String(n).padStart(2, '0');

/** A ticking age: "4 min 05 s", "1 h 03 min", "2 d 3 h" in the chosen language. */
export function formatAge(ms: number, t: Translate): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('age.seconds', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('age.minutes', { m, s: pad(s % 60) });
  const h = Math.floor(m / 60);
  if (h < 24) return t('age.hours', { h, m: pad(m % 60) });
  return t('age.days', { d: Math.floor(h / 24), h: h % 24 });
}

/** A duration in seconds from a report (null: no data). */
export function formatSeconds(seconds: number | null, t: Translate): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  return formatAge(seconds * 1000, t);
}

/** Minutes east of UTC written in an ISO time ("+08:00" → 480), or null without one. */
function offsetMinutes(iso: string): number | null {
  if (/Z$/i.test(iso)) return 0;
  const m = /([+-])(\d\d):?(\d\d)$/.exec(iso);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * A hub time as the wall clock of the place it happened: the hub writes each time with the home's
 * offset, so the console shows the same clock time as the home whatever the tablet's time zone.
 */
export function formatTime(iso: string | null, lang: string, now = Date.now()): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const offset = offsetMinutes(iso);
  const shift = (t: number) => (offset === null ? t : t + offset * 60_000);
  const timeZone = offset === null ? undefined : 'UTC';
  const day = (t: number) => new Date(shift(t)).toISOString().slice(0, 10);
  const sameDay =
    offset === null ? new Date(ms).toDateString() === new Date(now).toDateString() : day(ms) === day(now);
  try {
    return new Intl.DateTimeFormat(lang, {
      ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
      ...(timeZone ? { timeZone } : {}),
    }).format(new Date(shift(ms)));
  } catch {
    return new Date(ms).toLocaleString();
  }
}

export function formatPercent(share: number | null, lang: string): string {
  if (share === null || !Number.isFinite(share)) return '—';
  try {
    return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(share);
  } catch {
    return `${Math.round(share * 1000) / 10}%`;
  }
}
