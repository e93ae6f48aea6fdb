import { afterEach, describe, expect, it } from 'vitest';
import type { HomeState } from '../../../hub/src/model/home-state.js';
import type { DeviceEvent } from '../../../hub/src/protocol/events.js';
import { LAST_SEEN_WRITE_MS } from '../../../hub/src/rules/runtime.js';
import { demoRaw } from '../../helpers/hub.js';
import { RulesHarness } from '../../helpers/rules-harness.js';

// What the rules write per message, and what a crash or a rollback may cost. Demo site: Asia/Shanghai.
const local = (day: number, hhmm: string) => `2026-11-${String(day).padStart(2, '0')}T${hhmm}:00+08:00`;
const at = (day: number, hhmm: string) => Date.parse(local(day, hhmm));

let h: RulesHarness;
afterEach(() => h?.close());

function storedState(homeId: string): HomeState {
  const state = h.hub.store.homeStates.stored(homeId);
  if (!state) throw new Error(`no stored state for ${homeId}`);
  return state;
}

const timerDue = (key: string) => h.hub.store.timers.get(key)?.dueAt;

/** Rows SQLite changed so far (the write amplification of the rules is what these tests measure). */
const changes = () => (h.hub.store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;

let seq = 1_000_000;
function direct(deviceId: string, type: DeviceEvent['type'], extra: Partial<DeviceEvent> = {}): DeviceEvent {
  const homeId = h.hub.directory.device(deviceId)?.home.id ?? '';
  return { seq: seq++, deviceId, homeId, at: h.clock.now(), type, ...extra };
}

const offlineAlerts = (deviceId: string) =>
  h.alerts({ kind: 'device_offline' }).filter((a) => a.alert.deviceId === deviceId);

describe('rows written per message', () => {
  it('a heartbeat writes no home_state and no timers row', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-sos', { type: 'heartbeat', battery: 90 });
    h.advance('1m');
    h.hub.core.rules.flush();
    const before = changes();
    h.hub.store.uow.run(() => {
      for (const id of ['h1-sos', 'h1-door', 'h1-motion', 'h1-smoke'])
        h.hub.core.rules.onEvent(direct(id, 'heartbeat', { battery: 90, rssi: -60 }));
    });
    expect(changes() - before).toBe(0);
  });

  it("lastSeen of a heartbeat reaches the row with the periodic flush, in the flush's own transaction", () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.advance('5m');
    h.event('h1-sos', { type: 'heartbeat' });
    expect(storedState('h1').lastSeen['h1-sos']).toBeUndefined();
    expect(h.state('h1').lastSeen['h1-sos']).toBe(at(26, '08:05'));
    expect(h.hub.core.rules.flush()).toBe(1);
    expect(storedState('h1').lastSeen['h1-sos']).toBe(at(26, '08:05'));
    expect(h.hub.core.rules.flush()).toBe(0);
  });

  it('on the drill clock too: a minute of hub time later, the next message or timer writes it', () => {
    expect(LAST_SEEN_WRITE_MS).toBe(60_000);
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-sos', { type: 'heartbeat' });
    h.advance('59s');
    h.event('h2-sos', { type: 'heartbeat' });
    expect(storedState('h1').lastSeen['h1-sos']).toBeUndefined();
    h.advance('1s');
    h.event('h3-sos', { type: 'heartbeat' });
    expect(storedState('h1').lastSeen['h1-sos']).toBe(at(26, '08:00'));
    expect(storedState('h2').lastSeen['h2-sos']).toBe(at(26, '08:00') + 59_000);
    expect(storedState('h3').lastSeen['h3-sos']).toBeUndefined();
    // hours of drill time pass in a moment: the timers that fire meanwhile write it too
    h.advance('3h');
    expect(storedState('h3').lastSeen['h3-sos']).toBe(at(26, '08:01'));
  });

  it('anything but lastSeen is written at once: doors, offline status, a flag a rule sets on a heartbeat', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h2-door', { type: 'door.opened' });
    expect(storedState('h2').doors['h2-door']).toEqual({ open: true, since: at(26, '08:00') });
    h.event('h3-door', { type: 'status.offline' });
    expect(storedState('h3').offline['h3-door']).toBe(at(26, '08:00'));
    h.event('h1-door', { type: 'heartbeat', battery: 10 });
    expect(storedState('h1').batteryLow['h1-door']).toBe(true);
    h.event('h2-smoke', { type: 'smoke.test' });
    expect(storedState('h2').lastSmokeTestAt['h2-smoke']).toBe(at(26, '08:00'));
    // after a crash (no flush) the door is still known to be open: its countdown still alerts
    h.advance('2m');
    h = h.restart(at(26, '08:03'));
    expect(h.state('h2').doors['h2-door']?.open).toBe(true);
    h.advance('7m');
    expect(h.alerts({ kind: 'door_left_open', homeId: 'h2' })).toHaveLength(1);
  });

  it('a message that changes an alert writes lastSeen with it: "back online" is noted once, even after a crash', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.advance('2h');
    expect(offlineAlerts('h1-sos')).toHaveLength(1);
    h.advance('1m');
    h.event('h1-sos', { type: 'heartbeat' });
    h = h.restart(h.clock.now() + 60_000);
    h.event('h1-sos', { type: 'heartbeat' });
    const notes = offlineAlerts('h1-sos')[0]?.alert.notes.map((n) => n.text) ?? [];
    expect(notes.filter((t) => /恢复在线|back online/.test(t))).toHaveLength(1);
  });
});

describe('supervision with a timer that messages do not move', () => {
  it('still raises exactly one interval after the last message', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    const key = 'device_offline:h1:sup:h1-sos';
    expect(timerDue(key)).toBe(at(26, '10:00'));
    h.advance('30m');
    h.event('h1-sos', { type: 'heartbeat' });
    expect(timerDue(key)).toBe(at(26, '10:00'));
    h.advanceTo(local(26, '10:29'));
    h.advance('59s');
    expect(offlineAlerts('h1-sos')).toHaveLength(0);
    h.advance('1s');
    expect(offlineAlerts('h1-sos').map((a) => a.raisedAtMs)).toEqual([at(26, '10:30')]);
    expect(offlineAlerts('h1-sos')[0]?.alert.late).toBe(false);
  });

  it('a check that fell due during downtime but not by the last message moves on, without a grace period', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.advance('1h');
    h.event('h1-sos', { type: 'heartbeat' });
    h.hub.core.rules.flush();
    // the stored check (10:00) fell due while the hub was down; by the message at 09:00 it is due 11:00
    h = h.restart(at(26, '10:55'));
    h.advance('4m');
    expect(offlineAlerts('h1-sos')).toHaveLength(0);
    h.advance('1m');
    expect(offlineAlerts('h1-sos').map((a) => [a.raisedAtMs, a.alert.late])).toEqual([
      [at(26, '11:00'), false],
    ]);
  });

  it('a startup grace longer than the interval is cut short by a message, as before', () => {
    const raw = {
      ...demoRaw(),
      rules: { deviceOffline: { supervisionHours: { sos_button: 0.1 }, startupGraceMinutes: 15 } },
    };
    h = RulesHarness.create({ raw, start: local(26, '08:00') });
    h.advance('1m');
    h = h.restart(at(26, '09:00'));
    h.advance('1m');
    h.event('h1-sos', { type: 'heartbeat' });
    h.advance('30m');
    expect(offlineAlerts('h1-sos').map((a) => a.raisedAtMs)).toEqual([at(26, '09:07')]);
  });
});

describe('a rolled-back unit of work', () => {
  /**
   * The entry's unit of work fails at its last write (a trigger stands in for a full disk), so the
   * whole entry rolls back: its changes to the caches (home state, timers, device state, open alerts)
   * must be gone with it, through the one mechanism (UnitOfWork) every entry kind goes through.
   */
  function failing(table: string, work: () => void): void {
    const db = h.hub.store.db;
    for (const op of ['INSERT', 'UPDATE', 'DELETE'])
      db.exec(
        `CREATE TEMP TRIGGER fail_${op} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
      );
    try {
      work();
    } finally {
      for (const op of ['INSERT', 'UPDATE', 'DELETE']) db.exec(`DROP TRIGGER temp.fail_${op}`);
    }
  }

  it('a device event: a cancelled countdown and a changed door come back, and the door alert still fires', () => {
    h = RulesHarness.create({ start: local(26, '14:00') });
    h.event('h2-door', { type: 'door.opened' });
    h.advance('3m');
    // The event is committed to the journal; its application (rules, feed) rolls back.
    failing('home_state', () => h.event('h2-door', { type: 'door.closed' }));
    h.hub.core.machine.stop();
    expect(h.state('h2').doors['h2-door']?.open).toBe(true);
    expect(h.hub.core.scheduler.has('door_left_open:h2:open:h2-door')).toBe(true);
    // Applied once the failure is gone (the state machine retries): closed at 14:03, no alert.
    h.hub.core.machine.drain();
    expect(h.state('h2').doors['h2-door']?.open).toBe(false);
    h.advance('30m');
    expect(h.alerts({ kind: 'door_left_open', homeId: 'h2' })).toHaveLength(0);
  });

  it('a device event: a countdown set in it is gone, and so is the door it opened, until it is applied', () => {
    h = RulesHarness.create({ start: local(26, '14:00') });
    failing('home_state', () => h.event('h3-door', { type: 'door.opened' }));
    h.hub.core.machine.stop();
    expect(h.hub.core.scheduler.has('door_left_open:h3:open:h3-door')).toBe(false);
    expect(h.state('h3').doors['h3-door']).toBeUndefined();
    h.hub.core.machine.drain();
    expect(h.state('h3').doors['h3-door']?.open).toBe(true);
    h.advance('10m');
    expect(h.alerts({ kind: 'door_left_open' })).toHaveLength(1);
  });

  it('a staff entry: a rolled-back resolve never hides the open alert from the rules', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-sos', { type: 'sos.pressed' });
    const id = h.alerts({ kind: 'sos' })[0]?.alert.id ?? '';
    expect(() => failing('audit', () => h.resolve(id))).toThrow('disk full');
    h.hub.core.rules.flush();
    expect(h.hub.store.alerts.findOpen('sos:h1')?.alert.id).toBe(id);
    expect(h.hub.core.scheduler.has(`esc:${id}:1`)).toBe(true);
    h.event('h1-sos', { type: 'sos.cancelled' });
    expect(h.alerts({ kind: 'sos' })[0]?.alert.cancelledByResident).toBe(true);
    // a resolve that commits: the next press is a new alert, before and after the filter is pruned
    h.resolve(id);
    expect(h.hub.store.alerts.findOpen('sos:h1')).toBeUndefined();
    h.hub.core.rules.flush();
    expect(h.hub.store.alerts.findOpen('sos:h1')).toBeUndefined();
    h.event('h1-sos', { type: 'sos.pressed' });
    expect(h.alerts({ kind: 'sos' }).map((a) => a.alert.status)).toEqual(['resolved', 'open']);
  });

  it('a mode entry: the mode, its expiry timer and the rules’ reaction are all gone', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    expect(() => failing('audit', () => h.setMode('h2', 'away', h.clock.now() + 3600_000))).toThrow(
      'disk full',
    );
    expect(h.state('h2').mode).toBe('home');
    expect(h.hub.core.scheduler.has('mode:h2')).toBe(false);
    // inactivity still counts for the home that is not away
    h.advance('24h');
    expect(h.alerts({ kind: 'inactivity', homeId: 'h2' })).toHaveLength(1);
  });

  it('a timer entry: an escalation that fails is fired again and escalates once', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h2-sos', { type: 'sos.pressed' });
    failing('alerts', () => h.advance('61s'));
    expect(h.alerts({ kind: 'sos' })[0]?.alert.escalationLevel).toBe(0);
    expect(h.hub.core.scheduler.has(`esc:${h.alerts({ kind: 'sos' })[0]?.alert.id}:1`)).toBe(true);
    h.advance('5s');
    expect(h.alerts({ kind: 'sos' })[0]?.alert.escalationLevel).toBe(1);
    expect(h.alerts({ kind: 'sos' })[0]?.alert.notes.filter((n) => n.by === 'system')).toHaveLength(1);
  });

  it('a rhythm entry: the override, its audit row and the re-timed question are all gone', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    const due = timerDue('inactivity:h2:ask');
    // 24 h less the waits of the 3 requests (checkin.requests)
    expect(due).toBe(at(27, '07:00'));
    expect(() =>
      failing('audit', () =>
        h.hub.core.machine.submitNow({
          kind: 'rhythm',
          at: h.clock.now(),
          staffId: 'supervisor1',
          homeId: 'h2',
          change: { type: 'override', askAfterHours: 3 },
        }),
      ),
    ).toThrow('disk full');
    expect(h.hub.core.rules.rhythmOf('h2')?.override ?? null).toBeNull();
    expect(timerDue('inactivity:h2:ask')).toBe(due);
    expect(h.hub.store.audit.query({ action: 'home.rhythm', limit: 10 })).toHaveLength(0);
  });

  it('a timer entry: a check-in request that cannot be stored is not sent, and is asked once when it can', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h2-door', { type: 'door.closed' });
    for (let i = 0; i < 22; i++) {
      h.advance('1h');
      h.event('h2-sos', { type: 'heartbeat' });
    }
    // the first request is due at 07:00 (24 h less the waits of 3 requests)
    failing('home_rhythm', () => h.advance('61m'));
    const sent = () => h.commands.filter((c) => c.message.type === 'checkin.request');
    expect(sent()).toHaveLength(0);
    expect(h.hub.core.rules.rhythmOf('h2')?.pending ?? null).toBeNull();
    h.advance('5s');
    expect(sent()).toHaveLength(1);
    expect(h.hub.core.rules.rhythmOf('h2')?.pending?.requestId).toBe(sent()[0]?.message.requestId);
    h.advance('1m');
    expect(sent()).toHaveLength(1);
  });

  it('a lost last-seen after a rollback comes back from the log: supervision counts from the real last message', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.advance('30m');
    h.event('h1-sos', { type: 'heartbeat', rssi: -70 });
    // an unrelated unit of work rolls back: every cache is dropped, and the soft state re-read from the log
    expect(() => h.resolve('al-none')).toThrow(/no alert/);
    expect(h.state('h1').lastSeen['h1-sos']).toBe(at(26, '08:30'));
    expect(h.hub.store.devices.get('h1-sos')).toMatchObject({ lastSeen: at(26, '08:30'), rssi: -70 });
  });
});
