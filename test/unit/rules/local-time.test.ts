import { describe, expect, it } from 'vitest';
import { formatIso, localParts, offsetMinutes } from '../../../hub/src/time/iso.js';
import { inLocalWindow, nextLocalTime } from '../../../hub/src/time/local.js';

/** The reference: Intl asked directly for every instant (what localParts did before its offset cache). */
function intl(ms: number, timeZone: string) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

const MIN = 60_000;

describe('local time with the cached zone offset', () => {
  // DST changes on the hour (London), at :30 UTC with a 30-minute shift (Lord Howe), negative
  // half-hour zones (St John's), a 45-minute zone (Kathmandu) and no DST at all (Shanghai).
  const cases: Array<[string, string]> = [
    ['Europe/London', '2026-03-29T00:00:00Z'],
    ['Europe/London', '2026-10-25T00:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T14:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T14:00:00Z'],
    ['America/St_Johns', '2026-03-08T04:00:00Z'],
    ['America/St_Johns', '2026-11-01T03:00:00Z'],
    ['Asia/Kathmandu', '2026-06-01T00:00:00Z'],
    ['Asia/Shanghai', '2026-11-26T00:00:00Z'],
  ];

  it.each(cases)('%s around %s: every minute (and odd seconds) matches Intl', (tz, from) => {
    const start = Date.parse(from);
    // Walk forward and backward so cached hours are reused in both directions.
    const instants: number[] = [];
    for (let m = 0; m < 5 * 60; m++) instants.push(start + m * MIN + ((m * 7919) % 60_000));
    for (const ms of [...instants, ...instants.slice().reverse()]) {
      const want = intl(ms, tz);
      expect(localParts(ms, tz), `${tz} ${new Date(ms).toISOString()}`).toEqual(want);
      const asUtc = Date.UTC(
        want.year ?? 0,
        (want.month ?? 1) - 1,
        want.day,
        want.hour,
        want.minute,
        want.second,
      );
      expect(offsetMinutes(ms, tz)).toBe(Math.round((asUtc - Math.floor(ms / 1000) * 1000) / MIN));
    }
  });

  it('formats London times on both sides of the spring change', () => {
    expect(formatIso(Date.parse('2026-03-29T00:59:59.999Z'), 'Europe/London')).toBe(
      '2026-03-29T00:59:59.999+00:00',
    );
    expect(formatIso(Date.parse('2026-03-29T01:00:00.000Z'), 'Europe/London')).toBe(
      '2026-03-29T02:00:00.000+01:00',
    );
  });

  it('night windows and next local times stay right across the London changes', () => {
    // 05:30 BST (04:30 UTC) is night, 06:30 BST (05:30 UTC) is not; in October 22:30 GMT is night.
    expect(inLocalWindow(Date.parse('2026-03-29T04:30:00Z'), 'Europe/London', '22:00', '06:00')).toBe(true);
    expect(inLocalWindow(Date.parse('2026-03-29T05:30:00Z'), 'Europe/London', '22:00', '06:00')).toBe(false);
    expect(inLocalWindow(Date.parse('2026-10-25T21:30:00Z'), 'Europe/London', '22:00', '06:00')).toBe(false);
    expect(inLocalWindow(Date.parse('2026-10-25T22:30:00Z'), 'Europe/London', '22:00', '06:00')).toBe(true);
    expect(nextLocalTime(Date.parse('2026-03-28T12:00:00Z'), 'Europe/London', '10:00')).toBe(
      Date.parse('2026-03-29T09:00:00Z'),
    );
    expect(nextLocalTime(Date.parse('2026-10-24T12:00:00Z'), 'Europe/London', '10:00')).toBe(
      Date.parse('2026-10-25T10:00:00Z'),
    );
  });
});
