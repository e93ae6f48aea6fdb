import { afterEach, describe, expect, it } from 'vitest';
import { demoRaw } from '../../helpers/hub.js';
import { RulesHarness } from '../../helpers/rules-harness.js';

// Demo site: Asia/Shanghai (+08:00, no DST). h1: motion sensor, wandering-risk resident.
// h2: door-only. h3: motion sensor, no wandering risk. Night window 22:00–06:00.
const local = (day: number, hhmm: string) => `2026-11-${String(day).padStart(2, '0')}T${hhmm}:00+08:00`;

let h: RulesHarness;
afterEach(() => h?.close());

function openKinds(kind: string, homeId: string): number {
  return h.alerts({ kind, homeId }).length;
}

describe('door_left_open', () => {
  it.each([
    { name: 'open 9m59s → nothing yet', openFor: 599_000, expected: 0 },
    { name: 'open 10m → alert', openFor: 600_000, expected: 1 },
    { name: 'open 3h → still one alert', openFor: 3 * 3600_000, expected: 1 },
  ])('$name', ({ openFor, expected }) => {
    h = RulesHarness.create({ start: local(26, '13:00') });
    h.advanceTo(local(26, '14:00'));
    h.event('h2-door', { type: 'door.opened' });
    h.advance(openFor);
    expect(openKinds('door_left_open', 'h2')).toBe(expected);
  });

  it('door flapping (open/close every 5 minutes for an hour) raises nothing', () => {
    h = RulesHarness.create({ start: local(26, '13:00') });
    for (let i = 0; i < 12; i++) {
      h.event('h2-door', { type: i % 2 === 0 ? 'door.opened' : 'door.closed' });
      h.advance('5m');
    }
    expect(openKinds('door_left_open', 'h2')).toBe(0);
  });

  it('a duplicate open does not restart the count, and closing adds a note', () => {
    h = RulesHarness.create({ start: local(26, '13:00') });
    h.event('h2-door', { type: 'door.opened' });
    h.advance('5m');
    h.event('h2-door', { type: 'door.opened' });
    h.advance('5m');
    expect(openKinds('door_left_open', 'h2')).toBe(1);
    h.event('h2-door', { type: 'door.closed' });
    const [alert] = h.alerts({ kind: 'door_left_open' });
    expect(alert?.alert.notes.at(-1)?.text).toMatch(/关闭|closed/);
    expect(alert?.alert.status).toBe('open');
  });

  it('out of order: a close before any open, then open+close within 2 min, raises nothing', () => {
    h = RulesHarness.create({ start: local(26, '13:00') });
    h.event('h2-door', { type: 'door.closed' });
    h.event('h2-door', { type: 'door.opened' });
    h.advance('2m');
    h.event('h2-door', { type: 'door.closed' });
    h.advance('1h');
    expect(openKinds('door_left_open', 'h2')).toBe(0);
  });
});

describe('night_exit', () => {
  it('wandering-risk resident (h1): raised the moment the door opens at night', () => {
    h = RulesHarness.create({ start: local(26, '20:00') });
    h.advanceTo(local(26, '23:00'));
    h.event('h1-door', { type: 'door.opened' });
    expect(openKinds('night_exit', 'h1')).toBe(1);
    h.advance('15m');
    // the door still open 10 minutes later is the same situation: a note, not a second occurrence
    const [a] = h.alerts({ kind: 'night_exit' });
    expect(a?.alert.occurrences).toBe(1);
    expect(a?.alert.notes.map((n) => n.text)).toContainEqual(
      expect.stringMatching(/至今未关|not been closed/),
    );
    expect(a?.alert.escalationLevel).toBe(2);
  });

  it.each([
    { name: 'door open at 23:00 and not closed: alert at 23:10', open: '23:00', wait: '10m', expected: 1 },
    { name: '…but not at 23:09', open: '23:00', wait: '9m', expected: 0 },
    { name: 'window start 22:00 is night', open: '22:00', wait: '10m', expected: 1 },
    { name: '21:59 is not night', open: '21:59', wait: '10m', expected: 0 },
    { name: 'midnight crossing: 23:55 → alert at 00:05', open: '23:55', wait: '10m', expected: 1 },
  ])('h2 (door only): $name', ({ open, wait, expected }) => {
    h = RulesHarness.create({ start: local(26, '20:00') });
    h.advanceTo(local(26, open));
    h.event('h2-door', { type: 'door.opened' });
    h.advance(wait);
    expect(openKinds('night_exit', 'h2')).toBe(expected);
  });

  it.each([
    { name: '05:59 is night', at: '05:59', expected: 1 },
    { name: 'window end 06:00 is day', at: '06:00', expected: 0 },
  ])('window end: door opened at $at and left open', ({ at, expected }) => {
    h = RulesHarness.create({ start: local(27, '04:00') });
    h.advanceTo(local(27, at));
    h.event('h2-door', { type: 'door.opened' });
    h.advance('10m');
    expect(openKinds('night_exit', 'h2')).toBe(expected);
  });

  it('h3 (motion): door opened and closed, no movement for 30 min → left, not back', () => {
    h = RulesHarness.create({ start: local(26, '20:00') });
    h.advanceTo(local(26, '23:00'));
    h.event('h3-door', { type: 'door.opened' });
    h.advance('1m');
    h.event('h3-door', { type: 'door.closed' });
    h.advance('29m');
    expect(openKinds('night_exit', 'h3')).toBe(0);
    h.advance('1m');
    expect(openKinds('night_exit', 'h3')).toBe(1);
  });

  it('h3 (motion): movement inside after the door closed means the resident is home', () => {
    h = RulesHarness.create({ start: local(26, '20:00') });
    h.advanceTo(local(26, '23:00'));
    h.event('h3-door', { type: 'door.opened' });
    h.advance('1m');
    h.event('h3-door', { type: 'door.closed' });
    h.advance('10m');
    h.event('h3-motion', { type: 'motion.detected' });
    h.advance('2h');
    expect(openKinds('night_exit', 'h3')).toBe(0);
  });

  it('h2 (door only): a short opening at night raises nothing (a door sensor cannot tell more)', () => {
    h = RulesHarness.create({ start: local(26, '20:00') });
    h.advanceTo(local(26, '23:00'));
    h.event('h2-door', { type: 'door.opened' });
    h.advance('2m');
    h.event('h2-door', { type: 'door.closed' });
    h.advance('2h');
    expect(openKinds('night_exit', 'h2')).toBe(0);
  });

  it('away mode suppresses night exit; SOS still raised', () => {
    h = RulesHarness.create({ start: local(26, '20:00') });
    const sup = h.hub.directory.staff('supervisor1');
    if (!sup) throw new Error('demo staff missing');
    h.setMode('h1', 'away', null);
    h.advanceTo(local(26, '23:00'));
    h.event('h1-door', { type: 'door.opened' });
    h.advance('15m');
    h.event('h1-sos', { type: 'sos.pressed' });
    expect(openKinds('night_exit', 'h1')).toBe(0);
    expect(openKinds('sos', 'h1')).toBe(1);
  });
});

describe('local time across a DST change (Europe/London)', () => {
  function londonRaw(): Record<string, unknown> {
    return { ...demoRawLondon() };
  }

  it('spring forward (2026-03-29): 05:30 BST is night, 06:30 BST is day', () => {
    h = RulesHarness.create({ raw: londonRaw(), start: '2026-03-29T00:00:00Z' });
    h.advanceTo('2026-03-29T04:30:00Z'); // 05:30 BST
    h.event('h2-door', { type: 'door.opened' });
    h.advance('10m');
    expect(openKinds('night_exit', 'h2')).toBe(1);
    h.close();
    h = RulesHarness.create({ raw: londonRaw(), start: '2026-03-29T00:00:00Z' });
    h.advanceTo('2026-03-29T05:30:00Z'); // 06:30 BST
    h.event('h2-door', { type: 'door.opened' });
    h.advance('10m');
    expect(openKinds('night_exit', 'h2')).toBe(0);
  });

  it('fall back (2026-10-25): 22:30 GMT is night, 21:30 GMT is not', () => {
    h = RulesHarness.create({ raw: londonRaw(), start: '2026-10-25T12:00:00Z' });
    h.advanceTo('2026-10-25T21:30:00Z');
    h.event('h2-door', { type: 'door.opened' });
    h.advance('10m');
    expect(openKinds('night_exit', 'h2')).toBe(0);
    h.event('h2-door', { type: 'door.closed' });
    h.advanceTo('2026-10-25T22:30:00Z');
    h.event('h2-door', { type: 'door.opened' });
    h.advance('10m');
    expect(openKinds('night_exit', 'h2')).toBe(1);
  });
});

function demoRawLondon(): Record<string, unknown> {
  const raw = demoRaw();
  return { ...raw, site: { ...(raw.site as object), timezone: 'Europe/London' } };
}
