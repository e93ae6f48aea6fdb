import { afterEach, describe, expect, it } from 'vitest';
import { freshRhythm } from '../../../hub/src/model/home-rhythm.js';
import { learnedTable } from '../../../hub/src/rules/rhythm.js';
import { directoryEntry } from '../../helpers/directory-ops.js';
import { demoRaw } from '../../helpers/hub.js';
import { RulesHarness } from '../../helpers/rules-harness.js';

// Check-in prompts (PROTOCOL.md §7, docs/rules.md "Check-ins") on the real hub and the drill clock.
// Demo site, Asia/Shanghai: h2 is door-only (SOS h2-sos), h3 has a motion sensor (h3-sos, h3-motion).
const HOUR = 3600_000;
const MIN = 60_000;
const day0 = Date.parse('2026-11-02T00:00:00+08:00'); // a Monday
const at = (day: number, hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return day0 + day * 24 * HOUR + (h ?? 0) * HOUR + (m ?? 0) * MIN;
};

let h: RulesHarness;
afterEach(() => h?.close());

function withRules(
  rules: Record<string, unknown> = {},
  homeRules: Record<string, Record<string, unknown>> = {},
): Record<string, unknown> {
  const raw = demoRaw();
  const homes = (raw.homes as Array<Record<string, unknown>>).map((home) => ({
    ...home,
    ...(homeRules[String(home.id)] ? { rules: homeRules[String(home.id)] } : {}),
  }));
  return { ...raw, rules, homes };
}

const to = (t: number) => h.advance(t - h.clock.now());
const requests = (deviceId: string) =>
  h.commands.filter((c) => c.deviceId === deviceId && c.message.type === 'checkin.request');
const inactivity = (homeId: string) => h.alerts({ kind: 'inactivity', homeId });
const rhythm = (homeId: string) => h.hub.core.rules.rhythmOf(homeId);
const counts = (homeId: string) => {
  const total = { sent: 0, daily: 0, answered: 0, activity: 0, missed: 0, capped: 0 };
  for (const c of Object.values(rhythm(homeId)?.counts ?? {}))
    for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += c[k];
  return total;
};
const askDue = (homeId: string) => h.hub.store.timers.get(`inactivity:${homeId}:ask`)?.dueAt;
/** Every heartbeat the demo devices send, so supervision (and reachability of the SOS button) stays fine. */
const heartbeats = () => {
  for (const home of h.hub.config.homes) for (const d of home.devices) h.event(d.id, { type: 'heartbeat' });
};

/** Quiet for `hours` whole hours (the SOS button's hourly heartbeat keeps it reachable), then `minutes`. */
function quiet(hours: number, minutes = 0, sos = 'h2-sos'): void {
  for (let i = 0; i < hours; i++) {
    h.advance('1h');
    h.event(sos, { type: 'heartbeat' });
  }
  if (minutes > 0) h.advance(minutes * MIN);
}

/** h2 (door-only): out 09:00-10:00 and the rubbish at 19:00, every day, for `days` days from day `from`. */
function doorRoutine(from: number, days: number): void {
  for (let d = from; d < from + days; d++) {
    for (const t of ['09:00', '10:00', '19:00']) {
      to(at(d, t));
      heartbeats();
      h.event('h2-door', { type: 'door.opened' });
      h.event('h2-door', { type: 'door.closed' });
    }
  }
}

describe('a check-in prompt', () => {
  it('while learning: asked at the maximum less the waits of its 3 requests; an answer cancels, nothing is raised', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.opened' });
    h.event('h2-door', { type: 'door.closed' });
    // h2-sos heartbeats keep it reachable (supervision 2 h)
    for (let i = 0; i < 22; i++) {
      h.advance('1h');
      h.event('h2-sos', { type: 'heartbeat' });
    }
    h.advance('59m');
    expect(requests('h2-sos')).toHaveLength(0);
    h.advance('1m');
    const [req] = requests('h2-sos');
    // 24 h less 3 × 20 min: room for two more requests if this one goes unanswered
    expect(req?.message).toMatchObject({
      type: 'checkin.request',
      at: '2026-11-03T07:00:00.000+08:00',
      answerBy: '2026-11-03T07:20:00.000+08:00',
    });
    expect(String(req?.message.requestId)).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(rhythm('h2')?.pending?.requestId).toBe(req?.message.requestId);
    h.advance('3m');
    h.event('h2-sos', { type: 'checkin', requestId: req?.message.requestId });
    expect(rhythm('h2')?.pending).toBeNull();
    h.advance('2h');
    expect(inactivity('h2')).toHaveLength(0);
    expect(counts('h2')).toMatchObject({ sent: 1, answered: 1, missed: 0 });
    expect(rhythm('h2')?.recent.map((r) => r.outcome)).toEqual(['answered']);
  });

  it('unanswered, and the two requests after it: inactivity at the maximum, the prompts and the silence on its timeline; later activity noted', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    for (let i = 0; i < 24; i++) {
      h.advance('1h');
      h.event('h2-sos', { type: 'heartbeat' });
    }
    const alerts = inactivity('h2');
    expect(alerts).toHaveLength(1);
    const a = alerts[0]?.alert;
    expect(alerts[0]?.raisedAtMs).toBe(at(1, '08:00'));
    const notes = a?.notes.map((n) => [n.at, n.texts?.en]) ?? [];
    expect(requests('h2-sos').map((r) => r.at)).toEqual([at(1, '07:00'), at(1, '07:20'), at(1, '07:40')]);
    expect(notes.slice(0, 3)).toEqual(
      ['07:00', '07:20', '07:40'].map((t) => [
        `2026-11-03T${t}:00.000+08:00`,
        expect.stringContaining(`Check-in request sent`),
      ]),
    );
    expect(String(notes[2]?.[1])).toContain('answer awaited until 08:00');
    expect(notes[3]).toEqual([
      '2026-11-03T08:00:00.000+08:00',
      expect.stringMatching(
        /No answer to the check-in request by 08:00: no activity for 24 h 0 min \(since 08:00\)/,
      ),
    ]);
    expect(counts('h2')).toMatchObject({ sent: 3, answered: 0, missed: 3 });
    // the resident presses late: noted on the alert, never counted as an answer
    h.event('h2-sos', { type: 'checkin', requestId: requests('h2-sos')[2]?.message.requestId });
    expect(inactivity('h2')[0]?.alert.notes.at(-1)?.texts?.en).toMatch(/pressed the check-in button/);
    expect(counts('h2')).toMatchObject({ sent: 3, answered: 0, missed: 3 });
  });

  it('any other activity cancels it too (counted as "activity"), and a check-in with no prompt is plain activity', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    quiet(23, 5);
    expect(requests('h2-sos')).toHaveLength(1);
    h.event('h2-door', { type: 'door.opened' });
    h.advance('1h');
    expect(inactivity('h2')).toHaveLength(0);
    expect(counts('h2')).toMatchObject({ sent: 1, activity: 1, answered: 0 });
    h.event('h2-sos', { type: 'checkin' });
    expect(h.state('h2').lastActivityType).toBe('checkin');
    expect(counts('h2')).toMatchObject({ sent: 1, activity: 1, answered: 0 });
  });

  it('while the home is away: nothing is asked; one pending when it goes away is withdrawn', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    h.setMode('h2', 'away', null);
    for (let i = 0; i < 48; i++) {
      h.advance('1h');
      h.event('h2-sos', { type: 'heartbeat' });
    }
    expect(requests('h2-sos')).toHaveLength(0);
    expect(inactivity('h2')).toHaveLength(0);
    h.setMode('h2', 'home', null);
    quiet(22, 59);
    expect(requests('h2-sos')).toHaveLength(0);
    // counted afresh from the return: asked 23 h after it
    h.advance('1m');
    expect(requests('h2-sos')).toHaveLength(1);
    expect(requests('h2-sos')[0]?.at).toBe(at(2, '08:00') + 23 * HOUR);
    h.setMode('h2', 'away', null);
    expect(rhythm('h2')?.pending).toBeNull();
    h.advance('3h');
    expect(inactivity('h2')).toHaveLength(0);
    expect(rhythm('h2')?.recent.map((r) => r.outcome)).toEqual(['withdrawn']);
    expect(counts('h2')).toMatchObject({ sent: 1, missed: 0, answered: 0 });
  });

  it('goes only to a reachable SOS button: none heard within its supervision interval, no prompt and the maximum alarms', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    h.advance('24h');
    expect(requests('h2-sos')).toHaveLength(0);
    expect(inactivity('h2')).toHaveLength(1);
    expect(inactivity('h2')[0]?.alert.notes[0]?.texts?.en).toBe('No activity for 24 hours.');
  });
});

describe('asking again before alarming (a resident who did not hear)', () => {
  it('the first request unanswered, the second answered: nothing raised, one missed and one answered', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    quiet(23, 21);
    const [first, second] = requests('h2-sos');
    expect(first?.at).toBe(at(1, '07:00'));
    // asked again when the first one's wait ended, about the same silence
    expect(second?.at).toBe(at(1, '07:20'));
    expect(second?.message.requestId).not.toBe(first?.message.requestId);
    expect(second?.message.answerBy).toBe('2026-11-03T07:40:00.000+08:00');
    expect(rhythm('h2')?.pending?.quietSince).toBe(at(0, '08:00'));
    h.advance('4m');
    h.event('h2-sos', { type: 'checkin', requestId: second?.message.requestId });
    expect(rhythm('h2')?.pending).toBeNull();
    quiet(3);
    expect(requests('h2-sos')).toHaveLength(2);
    expect(inactivity('h2')).toHaveLength(0);
    expect(counts('h2')).toMatchObject({ sent: 2, answered: 1, missed: 1, capped: 0 });
    expect(rhythm('h2')?.recent.map((r) => r.outcome)).toEqual(['missed', 'answered']);
  });

  it('two requests a spell (checkin.requests: 2), both unanswered: one inactivity alert at the maximum, both prompts on its timeline', () => {
    h = RulesHarness.create({
      raw: withRules({}, { h2: { checkin: { requests: 2 } } }),
      start: at(0, '08:00'),
    });
    h.event('h2-door', { type: 'door.closed' });
    quiet(23, 59);
    expect(requests('h2-sos').map((r) => r.at)).toEqual([at(1, '07:20'), at(1, '07:40')]);
    expect(inactivity('h2')).toHaveLength(0);
    h.advance('1m');
    const alerts = inactivity('h2');
    expect(alerts.map((a) => a.raisedAtMs)).toEqual([at(1, '08:00')]);
    expect(alerts[0]?.alert.notes.map((n) => [n.at, n.texts?.en])).toEqual([
      ['2026-11-03T07:20:00.000+08:00', expect.stringMatching(/^Check-in request sent.*until 07:40/)],
      ['2026-11-03T07:40:00.000+08:00', expect.stringMatching(/^Check-in request sent.*until 08:00/)],
      ['2026-11-03T08:00:00.000+08:00', expect.stringMatching(/^No answer to the check-in request by 08:00/)],
    ]);
    expect(counts('h2')).toMatchObject({ sent: 2, missed: 2 });
  });

  it('a request that goes unanswered with no room left before the maximum is not followed by another', () => {
    h = RulesHarness.create({
      raw: withRules({}, { h2: { checkin: { requests: 1 } } }),
      start: at(0, '08:00'),
    });
    h.event('h2-door', { type: 'door.closed' });
    quiet(24, 30);
    // one request a spell: the old single question 20 min before the maximum
    expect(requests('h2-sos').map((r) => r.at)).toEqual([at(1, '07:40')]);
    expect(inactivity('h2').map((a) => a.raisedAtMs)).toEqual([at(1, '08:00')]);
  });

  it("requests after an unanswered one do not use up the day's limit", () => {
    h = RulesHarness.create({
      raw: withRules({ checkin: { maxPerDay: 1 } }),
      start: at(0, '08:00'),
    });
    h.event('h2-door', { type: 'door.closed' });
    quiet(23, 41);
    expect(requests('h2-sos')).toHaveLength(3);
    h.event('h2-sos', { type: 'checkin', requestId: requests('h2-sos')[2]?.message.requestId });
    expect(inactivity('h2')).toHaveLength(0);
    expect(counts('h2')).toMatchObject({ sent: 3, missed: 2, answered: 1, capped: 0 });
  });

  it('no prompt while an inactivity alert is open about the same silence: a fallen resident is not asked each morning', () => {
    h = RulesHarness.create({ start: at(0, '22:30') });
    /** On to `t`, every device heard each hour (heartbeats are no activity). */
    const until = (t: number) => {
      while (h.clock.now() < t) {
        h.advance(Math.min(HOUR, t - h.clock.now()));
        heartbeats();
      }
    };
    h.event('h3-motion', { type: 'motion.detected' });
    // nothing more: three requests, then the morning check's alert at 10:00 (staff keep it open)
    until(at(1, '10:00'));
    expect(requests('h3-sos')).toHaveLength(3);
    expect(inactivity('h3').map((a) => a.raisedAtMs)).toEqual([at(1, '10:00')]);
    until(at(4, '11:00'));
    expect(requests('h3-sos')).toHaveLength(3);
    expect(counts('h3')).toMatchObject({ sent: 3, missed: 3 });
    expect(inactivity('h3')).toHaveLength(1);
    // back from hospital she moves about until bedtime: the next quiet morning is asked again
    // (the alert is still open, but about an earlier silence)
    until(at(4, '22:30'));
    h.event('h3-motion', { type: 'motion.detected' });
    until(at(5, '09:00'));
    expect(requests('h3-sos').map((r) => r.at)).toEqual([
      at(1, '09:00'),
      at(1, '09:20'),
      at(1, '09:40'),
      at(5, '09:00'),
    ]);
  });
});

describe('a prompt and a hub restart: answered once or alarmed once, never both', () => {
  function quietUntilPrompt(): void {
    h.event('h2-door', { type: 'door.closed' });
    for (let i = 0; i < 22; i++) {
      h.advance('1h');
      h.event('h2-sos', { type: 'heartbeat' });
    }
  }

  it('due while the hub is down: asked at the start, answered, nothing raised', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    quietUntilPrompt(); // 06:00 next day; the prompt is due at 07:00
    h = h.restart(at(1, '07:50'));
    const reqs = requests('h2-sos');
    expect(reqs).toHaveLength(1);
    expect(reqs[0]?.message).toMatchObject({
      at: '2026-11-03T07:50:00.000+08:00',
      answerBy: '2026-11-03T08:10:00.000+08:00',
    });
    h.advance('5m');
    h.event('h2-sos', { type: 'checkin', requestId: reqs[0]?.message.requestId });
    h.advance('1h');
    expect(inactivity('h2')).toHaveLength(0);
    expect(counts('h2')).toMatchObject({ sent: 1, answered: 1, missed: 0 });
  });

  it('sent, then the hub crashes: the same request is sent again at the start and answered once', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    quietUntilPrompt();
    h.advance('61m');
    const first = requests('h2-sos');
    expect(first).toHaveLength(1);
    h = h.restart(at(1, '07:10'));
    const again = requests('h2-sos');
    expect(again).toHaveLength(1);
    expect(again[0]?.message).toEqual(first[0]?.message);
    h.event('h2-sos', { type: 'checkin', requestId: again[0]?.message.requestId });
    h.event('h2-sos', { type: 'checkin', requestId: again[0]?.message.requestId });
    h.advance('2h');
    expect(inactivity('h2')).toHaveLength(0);
    expect(counts('h2')).toMatchObject({ sent: 1, answered: 1, missed: 0 });
  });

  it('sent, and the hub is down until after the answer was due: alarmed once at the start, a later answer only noted', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    quietUntilPrompt();
    h.advance('61m');
    h = h.restart(at(1, '09:00'));
    // not sent again, nor followed by another: its answer is overdue and the maximum has passed
    expect(requests('h2-sos')).toHaveLength(0);
    const alerts = inactivity('h2');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.alert.late).toBe(true);
    h.event('h2-sos', { type: 'checkin' });
    h.advance('24h');
    expect(inactivity('h2')).toHaveLength(1);
    expect(counts('h2')).toMatchObject({ sent: 1, answered: 0, missed: 1 });
  });
});

describe('the per-day limit', () => {
  it('prompts beyond maxPerDay are not sent but counted; the maximum still alarms', () => {
    h = RulesHarness.create({
      raw: withRules({ checkin: { maxPerDay: 1 } }, { h2: { checkin: { learnDays: 3 } } }),
      start: at(0, '08:30'),
    });
    // learned over 3 days: the door at 09:00, 10:00, 12:00, 14:00 and 19:00
    const times = ['09:00', '10:00', '12:00', '14:00', '19:00'];
    for (let d = 0; d < 3; d++)
      for (const t of times) {
        to(at(d, t));
        heartbeats();
        h.event('h2-door', { type: 'door.opened' });
        h.event('h2-door', { type: 'door.closed' });
      }
    // day 3: out 09:00-10:00, then she stays in
    for (const t of ['09:00', '10:00']) {
      to(at(3, t));
      heartbeats();
      h.event('h2-door', { type: 'door.opened' });
      h.event('h2-door', { type: 'door.closed' });
    }
    // usually quiet at most 2 h (stored 2 h 15) from around 10:00: asked 2 h 15 × 1.25 + 1 h - 40 min = 3 h 8 min 45 s later
    quiet(3, 10);
    const first = requests('h2-sos')[0];
    // (less the waits of the 2 requests that would follow it unanswered: 40 min)
    expect(first?.at).toBe(at(3, '13:08') + 45_000);
    h.advance('1m');
    h.event('h2-sos', { type: 'checkin', requestId: first?.message.requestId });
    const answeredAt = h.clock.now();
    // from around 13:10 the usual longest is 5 h (stored 5 h 15): the next question would be at 20:04:45
    quiet(8);
    expect(requests('h2-sos')).toHaveLength(1);
    expect(counts('h2')).toMatchObject({ sent: 1, answered: 1, capped: 1 });
    // not asked, so the maximum alarms, 24 h after her answer
    quiet(15, 59);
    expect(inactivity('h2')).toHaveLength(0);
    h.advance('1m');
    expect(inactivity('h2').map((a) => a.raisedAtMs)).toEqual([answeredAt + 24 * HOUR]);
  });
});

describe('the learned rhythm on the hub', () => {
  it('a regular door-only resident: after learnDays days, alarmed by the usual quiet × 1.25 + 1 h and a wait, the requests spread before it, not at 24 h', () => {
    h = RulesHarness.create({ start: at(0, '08:30') });
    doorRoutine(0, 7);
    // day 7, after the 10:00 return: the usual longest quiet beginning 09:00-11:00 is 9 h (stored 9 h 15)
    to(at(7, '09:00'));
    heartbeats();
    h.event('h2-door', { type: 'door.opened' });
    to(at(7, '10:00'));
    h.event('h2-door', { type: 'door.closed' });
    // A fall at 10:05. The question timer set by an earlier spell moves itself when it falls due:
    // to 10:00 + 9 h 15 × 1.25 + 1 h - 2 × 20 min = 21:53:45 …
    quiet(4, 0);
    const first = at(7, '10:00') + (9 * 60 + 15) * 1.25 * MIN + HOUR - 40 * MIN;
    expect(askDue('h2')).toBe(first);
    quiet(12, 30);
    // … unanswered, asked twice more (the maximum is hours away): alarmed after the third wait,
    // when one request would have been alarmed (22:33:45 + 20 min)
    expect(requests('h2-sos').map((r) => r.at)).toEqual([first, first + 20 * MIN, first + 40 * MIN]);
    const [a] = inactivity('h2');
    expect(a?.raisedAtMs).toBe(first + 60 * MIN);
    expect(a?.alert.notes.slice(0, 4).map((n) => n.texts?.en)).toEqual([
      expect.stringContaining('Check-in request sent'),
      expect.stringContaining('Check-in request sent'),
      expect.stringContaining('Check-in request sent'),
      expect.stringContaining('no activity for 12 h 53 min'),
    ]);
    expect(rhythm('h2')?.override).toBeNull();
  });

  it("a home removed from the site: what was learned of its resident's routine is erased with the home", () => {
    h = RulesHarness.create({ start: at(0, '08:30') });
    doorRoutine(0, 8);
    expect(Object.keys(rhythm('h2')?.days ?? {}).length).toBeGreaterThanOrEqual(8);
    h.hub.core.machine.submitNow(
      directoryEntry(h.clock.now(), [{ op: 'home.delete', homeId: 'h2', force: true }]),
    );
    // peek reads the table when nothing is cached: nothing there either
    expect(rhythm('h2')).toBeUndefined();
  });

  it('a resident whose rhythm changes after a hospital stay: learned afresh on the return, then the new routine', () => {
    h = RulesHarness.create({ start: at(0, '08:30') });
    doorRoutine(0, 8);
    expect(askDue('h2')).toBeLessThan(h.clock.now() + 20 * HOUR);
    const oldDays = Object.keys(rhythm('h2')?.days ?? {});
    expect(oldDays.length).toBeGreaterThanOrEqual(8);
    // five days in hospital
    to(at(8, '11:00'));
    h.setMode('h2', 'away', null);
    to(at(13, '11:00'));
    h.setMode('h2', 'home', null);
    // back with a new routine: out only at 15:00 for half an hour, every day
    expect(Object.keys(rhythm('h2')?.days ?? {})).toEqual([]);
    expect(rhythm('h2')?.learnFrom).toBe(at(13, '11:00'));
    expect(askDue('h2')).toBe(at(13, '11:00') + 24 * HOUR - 60 * MIN);
    const asked: number[] = [];
    for (let d = 13; d < 22; d++) {
      for (const t of ['15:00', '15:30']) {
        to(at(d, t));
        heartbeats();
        h.event('h2-door', { type: 'door.opened' });
        h.event('h2-door', { type: 'door.closed' });
      }
      // She answers every prompt at once.
      for (const r of requests('h2-sos').slice(asked.length)) {
        asked.push(r.at);
        h.event('h2-sos', { type: 'checkin', requestId: r.message.requestId });
      }
    }
    expect(inactivity('h2')).toHaveLength(0);
    // no prompt from the old routine's short deadlines
    expect(asked).toEqual([]);
    // learned again from the new routine: the 15:30 spell lasts until 15:00 the next day
    const table = learnedTable(rhythm('h2') ?? freshRhythm(0));
    expect(table.daysSeen).toBeGreaterThanOrEqual(7);
    expect(table.usual[0]?.[15]).toBe(23 * 60 + 45);
    expect(Object.keys(rhythm('h2')?.days ?? {}).every((d) => d >= '2026-11-15')).toBe(true);
  });

  it('answers stretch a deadline that turned too short (no stay away): the prompts at that hour stop', () => {
    h = RulesHarness.create({
      raw: withRules({}, { h2: { checkin: { learnDays: 3 } } }),
      start: at(0, '08:30'),
    });
    doorRoutine(0, 5);
    // from day 5 she no longer goes out at 19:00 and leaves at 08:45: quiet from 10:00 to 08:45 the
    // next day (22 h 45 min, under the latest question, 23 h, when nothing is learned)
    const promptsPerDay: number[] = [];
    for (let d = 5; d < 16; d++) {
      const before = requests('h2-sos').length;
      for (const t of ['08:45', '10:00']) {
        to(at(d, t));
        heartbeats();
        h.event('h2-door', { type: 'door.opened' });
        h.event('h2-door', { type: 'door.closed' });
      }
      for (let i = 0; i < 46; i++) {
        h.advance('30m');
        heartbeats();
        const r = requests('h2-sos')[requests('h2-sos').length - 1];
        if (r && requests('h2-sos').length > before && rhythm('h2')?.pending) {
          h.advance('2m');
          h.event('h2-sos', { type: 'checkin', requestId: r.message.requestId });
        }
        if (h.clock.now() >= at(d + 1, '08:30')) break;
      }
      promptsPerDay.push(requests('h2-sos').length - before);
    }
    expect(inactivity('h2')).toHaveLength(0);
    expect(promptsPerDay.slice(0, 2).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // after a few answered prompts the deadline covers the new habit: no more prompts
    expect(promptsPerDay.slice(-4)).toEqual([0, 0, 0, 0]);
  });
});

describe('the morning check and the daily check-in', () => {
  it('a motion home: asked at 09:00, 09:20 and 09:40 if nothing since the night ended; unanswered → inactivity at 10:00, answered → nothing', () => {
    h = RulesHarness.create({ start: at(0, '22:30') });
    h.event('h3-motion', { type: 'motion.detected' });
    quiet(10, 0, 'h3-sos');
    // nothing asked at night, nor before the morning check's question
    expect(requests('h3-sos')).toHaveLength(0);
    to(at(1, '09:40'));
    expect(requests('h3-sos').map((r) => r.at)).toEqual([at(1, '09:00'), at(1, '09:20'), at(1, '09:40')]);
    expect(requests('h3-sos').map((r) => r.message.answerBy)).toEqual(
      ['09:20', '09:40', '10:00'].map((t) => `2026-11-03T${t}:00.000+08:00`),
    );
    to(at(1, '10:00'));
    const [a] = inactivity('h3');
    expect(a?.raisedAtMs).toBe(at(1, '10:00'));
    expect(a?.alert.notes.map((n) => n.texts?.en)).toEqual([
      expect.stringContaining('Check-in request sent'),
      expect.stringContaining('Check-in request sent'),
      expect.stringContaining('Check-in request sent'),
      'No activity this morning by 10:00, and no answer to the check-in request sent at 09:40.',
    ]);
    // next morning (the alert still open, but she has moved since it was raised) she answers
    h.event('h3-motion', { type: 'motion.detected' });
    to(at(1, '22:30'));
    h.event('h3-motion', { type: 'motion.detected' });
    quiet(10, 31, 'h3-sos');
    const next = requests('h3-sos')[3];
    expect(next?.at).toBe(at(2, '09:00'));
    h.event('h3-sos', { type: 'checkin', requestId: next?.message.requestId });
    to(at(2, '11:00'));
    expect(requests('h3-sos')).toHaveLength(4);
    expect(inactivity('h3')).toHaveLength(1);
    expect(counts('h3')).toMatchObject({ sent: 4, answered: 1, missed: 3 });
  });

  it('a daily check-in time: asked then unless the resident has been up; not limited by maxPerDay', () => {
    h = RulesHarness.create({
      raw: withRules({ checkin: { maxPerDay: 0 } }, { h2: { checkin: { dailyAt: '09:00' } } }),
      start: at(0, '07:00'),
    });
    heartbeats();
    to(at(0, '08:00'));
    h.event('h2-door', { type: 'door.opened' }); // up: no question at 09:00
    h.event('h2-door', { type: 'door.closed' });
    quiet(1, 30);
    expect(requests('h2-sos')).toHaveLength(0);
    to(at(0, '19:00'));
    h.event('h2-door', { type: 'door.opened' });
    h.event('h2-door', { type: 'door.closed' });
    // the next day nothing since the night ended: asked at 09:00, answered
    quiet(14);
    expect(requests('h2-sos').map((r) => r.at)).toEqual([at(1, '09:00')]);
    h.advance('4m');
    h.event('h2-sos', { type: 'checkin', requestId: requests('h2-sos')[0]?.message.requestId });
    to(at(1, '19:00'));
    h.event('h2-door', { type: 'door.opened' });
    h.event('h2-door', { type: 'door.closed' });
    // the day after: not answered → inactivity at 09:20
    quiet(14, 20);
    expect(inactivity('h2').map((a) => a.raisedAtMs)).toEqual([at(2, '09:20')]);
    expect(inactivity('h2')[0]?.alert.notes.at(-1)?.texts?.en).toMatch(
      /^Daily check-in at 09:00 not answered by 09:20/,
    );
    expect(counts('h2')).toMatchObject({ sent: 2, daily: 2, answered: 1, missed: 1, capped: 0 });
  });
});

describe('bad input', () => {
  it('a check-in with an unknown, stale or malformed requestId is accepted as activity and answers the pending prompt', () => {
    h = RulesHarness.create({ start: at(0, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    quiet(23, 5);
    expect(requests('h2-sos')).toHaveLength(1);
    h.event('h2-sos', { type: 'checkin', requestId: 'ci-no-such-request' });
    expect(counts('h2')).toMatchObject({ sent: 1, answered: 1 });
    for (const requestId of [42, { x: 1 }, 'x'.repeat(65), 'bad id with spaces'])
      h.event('h2-sos', { type: 'checkin', requestId });
    expect(h.state('h2').lastActivityType).toBe('checkin');
    expect(h.state('h2').lastActivityAt).toBe(h.clock.now());
    h.advance('2h');
    expect(inactivity('h2')).toHaveLength(0);
  });
});
