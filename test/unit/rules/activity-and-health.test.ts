import { afterEach, describe, expect, it } from 'vitest';
import { demoRaw } from '../../helpers/hub.js';
import { RulesHarness } from '../../helpers/rules-harness.js';

const local = (day: number, hhmm: string) => `2026-11-${String(day).padStart(2, '0')}T${hhmm}:00+08:00`;

let h: RulesHarness;
afterEach(() => h?.close());

const count = (kind: string, homeId?: string) => h.alerts({ kind, ...(homeId ? { homeId } : {}) }).length;
const offlineAlerts = (deviceId: string) =>
  h.alerts({ kind: 'device_offline' }).filter((a) => a.alert.deviceId === deviceId);

/** Every demo device checks in, as healthy devices do, so supervision stays quiet. */
function heartbeats(): void {
  for (const home of h.hub.config.homes)
    for (const d of home.devices) h.event(d.id, { type: 'heartbeat', battery: 90 });
}

function withRules(
  rules: Record<string, unknown>,
  homeRules: Record<string, Record<string, unknown>> = {},
): Record<string, unknown> {
  const raw = demoRaw();
  const homes = (raw.homes as Array<Record<string, unknown>>).map((home) => ({
    ...home,
    ...(homeRules[String(home.id)] ? { rules: homeRules[String(home.id)] } : {}),
  }));
  return { ...raw, rules, homes };
}

describe('inactivity', () => {
  it('with a motion sensor (h3): 12 h without activity → alert, 11 h 59 → none', () => {
    h = RulesHarness.create({
      raw: withRules({ inactivity: { morningCheck: false } }),
      start: local(26, '06:00'),
    });
    h.advanceTo(local(26, '07:00'));
    h.event('h3-motion', { type: 'motion.detected' });
    h.advance('11h');
    h.advance('59m');
    expect(count('inactivity', 'h3')).toBe(0);
    h.advance('1m');
    expect(count('inactivity', 'h3')).toBe(1);
  });

  it('door-only home (h2): 24 h, not 12', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h2-door', { type: 'door.opened' });
    h.event('h2-door', { type: 'door.closed' });
    h.advance('23h');
    expect(count('inactivity', 'h2')).toBe(0);
    h.advance('1h');
    expect(count('inactivity', 'h2')).toBe(1);
  });

  it('morning check (h3): nothing since the night ended by 10:00 → alert; motion at 07:00 → none', () => {
    const raw = withRules({ inactivity: { hoursWithMotion: 30 } });
    h = RulesHarness.create({ raw, start: local(26, '20:00') });
    h.event('h3-motion', { type: 'motion.detected' });
    h.advanceTo(local(27, '09:59'));
    expect(count('inactivity', 'h3')).toBe(0);
    h.advance('1m');
    expect(count('inactivity', 'h3')).toBe(1);
    h.close();
    h = RulesHarness.create({ raw, start: local(26, '20:00') });
    h.advanceTo(local(27, '07:00'));
    h.event('h3-motion', { type: 'motion.detected' });
    h.advanceTo(local(27, '11:00'));
    expect(count('inactivity', 'h3')).toBe(0);
  });

  it('activity after the alert adds a note; away mode suppresses, returning home starts afresh', () => {
    h = RulesHarness.create({
      raw: withRules({ inactivity: { morningCheck: false } }),
      start: local(26, '08:00'),
    });
    h.advance('12h');
    expect(count('inactivity', 'h3')).toBe(1);
    h.event('h3-motion', { type: 'motion.detected' });
    const [a] = h.alerts({ kind: 'inactivity', homeId: 'h3' });
    expect(a?.alert.notes.map((n) => n.text)).toContainEqual(
      expect.stringMatching(/重新出现活动|Activity seen again/),
    );

    h.setMode('h2', 'away', null);
    h.advance('3d');
    expect(count('inactivity', 'h2')).toBe(0);
    h.setMode('h2', 'home', null);
    h.advance('23h');
    expect(count('inactivity', 'h2')).toBe(0);
    h.advance('1h');
    expect(count('inactivity', 'h2')).toBe(1);
  });

  it('away until a time: the home returns to normal by itself, and inactivity counts from then', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.setMode('h2', 'away', h.clock.now() + 48 * 3600_000);
    h.advance('47h');
    expect(h.state('h2').mode).toBe('away');
    h.advance('1h');
    expect(h.state('h2').mode).toBe('home');
    expect(count('inactivity', 'h2')).toBe(0);
    h.advance('23h');
    expect(count('inactivity', 'h2')).toBe(0);
    h.advance('1h');
    expect(count('inactivity', 'h2')).toBe(1);
  });

  it('a mode change elsewhere (or a restart) does not re-raise a resolved inactivity alert', () => {
    h = RulesHarness.create({
      raw: withRules({ inactivity: { morningCheck: false } }),
      start: local(26, '08:00'),
    });
    h.advance('24h');
    const [first] = h.alerts({ kind: 'inactivity', homeId: 'h2' });
    const sup = h.hub.directory.staff('supervisor1');
    if (!first || !sup) throw new Error('setup');
    h.resolve(first.alert.id, 'false_alarm', 'resident was resting');
    h.setMode('h3', 'away', null);
    h.advance('1m');
    h = h.restart(h.clock.now());
    h.advance('1m');
    expect(count('inactivity', 'h2')).toBe(1);
    // still nothing a whole period later: a new alert
    h.advance('24h');
    expect(count('inactivity', 'h2')).toBe(2);
  });

  it('a rule switched off for one home stays off there only', () => {
    h = RulesHarness.create({
      raw: withRules({}, { h2: { inactivity: { enabled: false } } }),
      start: local(26, '08:00'),
    });
    h.advance('2d');
    expect(count('inactivity', 'h2')).toBe(0);
    expect(count('inactivity', 'h3')).toBe(1);
  });
});

describe('device_offline', () => {
  it('status offline for 5 min → alert; back at 4 min → none', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-door', { type: 'status.offline' });
    h.advance('4m');
    h.event('h1-door', { type: 'status.online' });
    h.advance('10m');
    expect(count('device_offline', 'h1')).toBe(0);
    h.event('h1-door', { type: 'status.offline' });
    h.advance('5m');
    expect(count('device_offline', 'h1')).toBe(1);
  });

  it('the offline countdown is cancelled by the next message, and only an offline device has one', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    const offTimers = () => h.hub.store.timers.keys().filter(([key]) => key.endsWith(':off:h1-door')).length;
    h.event('h1-door', { type: 'heartbeat' });
    expect(offTimers()).toBe(0);
    h.event('h1-door', { type: 'status.offline' });
    expect(offTimers()).toBe(1);
    h.advance('1m');
    h.event('h1-door', { type: 'heartbeat' });
    expect(offTimers()).toBe(0);
    h.advance('10m');
    expect(count('device_offline', 'h1')).toBe(0);
  });

  it('supervision: SOS silent 2 h → high; door silent 25 h → medium; hourly heartbeats → none', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.advance('2h');
    const sos = h
      .alerts({ kind: 'device_offline', homeId: 'h1' })
      .filter((a) => a.alert.deviceId === 'h1-sos');
    expect(sos).toHaveLength(1);
    expect(sos[0]?.alert.severity).toBe('high');
    h.advance('23h');
    const door = h
      .alerts({ kind: 'device_offline', homeId: 'h1' })
      .find((a) => a.alert.deviceId === 'h1-door');
    expect(door?.alert.severity).toBe('medium');
    h.close();

    h = RulesHarness.create({ start: local(26, '08:00') });
    for (let i = 0; i < 72; i++) {
      heartbeats();
      h.advance('1h');
    }
    expect(count('device_offline')).toBe(0);
  });

  it('after hub downtime, devices get a grace period to reconnect before supervision judges them', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    heartbeats();
    h.advance('1h');
    h = h.restart(Date.parse(local(26, '12:00')));
    expect(count('device_offline')).toBe(0);
    h.event('h1-sos', { type: 'heartbeat' });
    h.advance('10m');
    const offline = h.alerts({ kind: 'device_offline' }).map((a) => a.alert.deviceId);
    expect(offline).not.toContain('h1-sos');
    expect(offline).toContain('h2-sos');
  });

  it('when maintenance ends, a device whose supervision ran out during it is judged after the grace', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.setMode('h1', 'maintenance', null);
    h.event('h1-door', { type: 'heartbeat' });
    h.advance('3h'); // the SOS button and the smoke detector fall silent past their 2 h (suppressed)
    expect(offlineAlerts('h1-sos')).toHaveLength(0);
    h.setMode('h1', 'home', null);
    h.event('h1-smoke', { type: 'heartbeat' }); // the installer's last device answers in time
    h.advance('9m');
    expect(offlineAlerts('h1-sos')).toHaveLength(0);
    h.advance('2m'); // startupGraceMinutes (10) after maintenance ended
    expect(offlineAlerts('h1-sos')).toHaveLength(1);
    expect(offlineAlerts('h1-smoke')).toHaveLength(0);
    expect(offlineAlerts('h1-door')).toHaveLength(0); // 25 h, not run out
  });

  it('maintenance mode suppresses device health alerts, never smoke', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.setMode('h1', 'maintenance', null);
    h.event('h1-smoke', { type: 'tamper', battery: 5 });
    h.event('h1-smoke', { type: 'smoke.detected' });
    h.advance('3h');
    expect(h.alerts({ homeId: 'h1' }).map((a) => a.alert.kind)).toEqual(['smoke']);
  });
});

describe('battery_low and tamper', () => {
  it('once per device until it recovers (with hysteresis)', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    for (const battery of [25, 20, 19, 18, 25]) h.event('h1-door', { type: 'heartbeat', battery });
    let alerts = h.alerts({ kind: 'battery_low' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.alert).toMatchObject({ occurrences: 1, severity: 'low' });
    // recovered (new battery), then low again while the first alert is still open: counted on it
    for (const battery of [100, 15]) h.event('h1-door', { type: 'heartbeat', battery });
    alerts = h.alerts({ kind: 'battery_low' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.alert.occurrences).toBe(2);
    h.event('h2-door', { type: 'heartbeat', batteryLow: true });
    expect(h.alerts({ kind: 'battery_low', homeId: 'h2' })).toHaveLength(1);
  });

  it('a low battery reported during maintenance is raised once maintenance ends and it is still low', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.setMode('h1', 'maintenance', null);
    h.event('h1-door', { type: 'heartbeat', battery: 10 });
    expect(h.alerts({ kind: 'battery_low' })).toHaveLength(0);
    h.setMode('h1', 'home', null);
    h.event('h1-door', { type: 'heartbeat', battery: 10 });
    expect(h.alerts({ kind: 'battery_low' })).toHaveLength(1);
  });

  it('tamper raises a medium alert', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h3-smoke', { type: 'tamper' });
    expect(h.alerts({ kind: 'tamper' })[0]?.alert).toMatchObject({
      severity: 'medium',
      homeId: 'h3',
      deviceId: 'h3-smoke',
    });
  });
});

describe('sos and smoke', () => {
  it('repeated presses merge; cancel marks; after resolve a press is a new alert', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-sos', { type: 'sos.pressed' });
    h.event('h1-sos', { type: 'sos.pressed' });
    h.event('h1-sos', { type: 'sos.cancelled' });
    let [a] = h.alerts({ kind: 'sos' });
    expect(a?.alert).toMatchObject({
      occurrences: 2,
      cancelledByResident: true,
      status: 'open',
      severity: 'critical',
    });
    const sup = h.hub.directory.staff('supervisor1');
    if (!sup || !a) throw new Error('setup');
    h.resolve(a.alert.id, 'accidental', 'resident pressed by mistake');
    h.event('h1-sos', { type: 'sos.pressed' });
    const all = h.alerts({ kind: 'sos' });
    expect(all).toHaveLength(2);
    [, a] = all;
    expect(a?.alert.status).toBe('open');
  });

  it('smoke.test is never an alert; smoke.cleared only adds a note', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h2-smoke', { type: 'smoke.test' });
    expect(count('smoke')).toBe(0);
    h.event('h2-smoke', { type: 'smoke.detected' });
    h.event('h2-smoke', { type: 'smoke.cleared' });
    h.advance('1d');
    const [a] = h.alerts({ kind: 'smoke' });
    expect(a?.alert.status).toBe('open');
    expect(a?.alert.notes.map((n) => n.text)).toContainEqual(
      expect.stringMatching(/烟雾已消散|smoke has cleared/),
    );
  });

  it('alerts of one home within 10 minutes share an incident', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-smoke', { type: 'smoke.detected' });
    h.advance('5m');
    h.event('h1-sos', { type: 'sos.pressed' });
    h.advance('30m');
    h.event('h1-smoke', { type: 'tamper' });
    const [smoke, sos, tamper] = h.alerts({ homeId: 'h1' }).filter((a) => a.alert.kind !== 'device_offline');
    expect(sos?.alert.incidentId).toBe(smoke?.alert.incidentId);
    expect(tamper?.alert.incidentId).not.toBe(smoke?.alert.incidentId);
  });
});

describe('escalation', () => {
  it('level 1 at 60 s, level 2 at 180 s while unacknowledged; ack stops it and sets a 30 min reminder', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h1-sos', { type: 'sos.pressed' });
    const level = () => h.alerts({ kind: 'sos' })[0]?.alert.escalationLevel;
    h.advance('59s');
    expect(level()).toBe(0);
    h.advance('1s');
    expect(level()).toBe(1);
    h.advance('2m');
    expect(level()).toBe(2);
    const id = h.alerts({ kind: 'sos' })[0]?.alert.id ?? '';
    const duty = h.hub.directory.staff('duty1');
    if (!duty) throw new Error('setup');
    h.act({ type: 'ack', alertId: id }, duty.id);
    const versionAfterAck = h.alerts({ kind: 'sos' })[0]?.alert.version ?? 0;
    h.advance('29m');
    expect(h.alerts({ kind: 'sos' })[0]?.alert.version).toBe(versionAfterAck);
    h.advance('1m');
    const a = h.alerts({ kind: 'sos' })[0]?.alert;
    expect(a?.version).toBe(versionAfterAck + 1);
    expect(a?.notes.at(-1)?.text).toMatch(/仍未处理完毕|still unresolved/);
  });

  it('acknowledged within 60 s: never escalates', () => {
    h = RulesHarness.create({ start: local(26, '08:00') });
    h.event('h2-sos', { type: 'sos.pressed' });
    h.advance('30s');
    const duty = h.hub.directory.staff('duty1');
    const id = h.alerts({ kind: 'sos' })[0]?.alert.id ?? '';
    if (!duty) throw new Error('setup');
    h.act({ type: 'ack', alertId: id }, duty.id);
    h.advance('10m');
    expect(h.alerts({ kind: 'sos' })[0]?.alert.escalationLevel).toBe(0);
  });
});

describe('timers survive restarts', () => {
  it('restart mid-countdown: the door alert still fires on time', () => {
    h = RulesHarness.create({ start: local(26, '14:00') });
    h.event('h2-door', { type: 'door.opened' });
    h.advance('5m');
    h = h.restart(Date.parse(local(26, '14:05')));
    h.advance('4m');
    expect(count('door_left_open', 'h2')).toBe(0);
    h.advance('1m');
    const [a] = h.alerts({ kind: 'door_left_open' });
    expect(a?.alert.late).toBe(false);
    expect(a?.raisedAtMs).toBe(Date.parse(local(26, '14:10')));
  });

  it('catch-up: a countdown that fell due while the hub was down fires at start, marked late', () => {
    h = RulesHarness.create({ start: local(26, '14:00') });
    h.event('h2-door', { type: 'door.opened' });
    h.advance('5m');
    h = h.restart(Date.parse(local(26, '15:00')));
    const [a] = h.alerts({ kind: 'door_left_open' });
    expect(a?.alert.late).toBe(true);
    expect(a?.alert.notes.map((n) => n.text)).toContainEqual(expect.stringMatching(/延迟告警|Raised late/));
  });
});
