import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../hub/src/config/load.js';
import type { HubConfig } from '../../hub/src/config/schema.js';
import { replayInto } from '../../hub/src/core/replay.js';
import { Replica } from '../../hub/src/core/replica.js';
import { createLogger } from '../../hub/src/log.js';
import type { DirectoryOp } from '../../hub/src/model/directory.js';
import type { SessionLogEntry } from '../../hub/src/model/entries.js';
import { openLogReader } from '../../hub/src/store/log-reader.js';
import { demoRaw } from '../helpers/hub.js';
import { RulesHarness } from '../helpers/rules-harness.js';

/**
 * One log, one deterministic applier (issue 17): a scripted drill week played on the hub (every
 * alert kind, staff actions, mode changes, clean restarts and crashes), then its log replayed into an
 * empty data dir, must give the same state digest; and two stores fed the same entries side by side
 * agree after every entry.
 */
const START = Date.parse('2026-11-23T06:00:00+08:00'); // a Monday morning in Asia/Shanghai
const log = createLogger('silent');
const dirs: string[] = [];
const replicas: Replica[] = [];
let h: RulesHarness | undefined;

afterEach(() => {
  for (const r of replicas.splice(0)) r.close();
  h?.close();
  h = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** On tmpfs where there is one: the side-by-side test commits (and syncs) once per entry. */
function tempDir(): string {
  const d = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'carehub-determinism-'));
  dirs.push(d);
  return d;
}

function configFor(dataDir: string): Readonly<HubConfig> {
  return parseConfig({ ...demoRaw(), clock: 'manual', dataDir }, {});
}

function open(dataDir: string): Replica {
  const r = Replica.open(configFor(dataDir), log);
  replicas.push(r);
  return r;
}

const open1 = (hh: RulesHarness, kind: string, homeId?: string) =>
  hh.alerts({ kind, ...(homeId ? { homeId } : {}) }).filter((a) => a.alert.status !== 'resolved');

/** Days of the demo community on the drill clock; returns the harness (its data dir holds the log). */
function playWeek(dataDir: string, days = 7): RulesHarness {
  let hh = RulesHarness.create({ start: START, dataDir });
  const at = (day: number, hhmm: string) =>
    Date.parse(`2026-11-${String(23 + day).padStart(2, '0')}T${hhmm}:00+08:00`);
  const to = (day: number, hhmm: string) => hh.advanceTo(new Date(at(day, hhmm)).toISOString());
  for (let day = 0; day < days; day++) {
    // Everyday life: doors, motion, heartbeats with battery and signal.
    to(day, '07:30');
    hh.event('h1-motion', { type: 'motion.detected' });
    hh.event('h3-motion', { type: 'motion.detected', rssi: -60 - day });
    to(day, '08:15');
    for (const home of ['h1', 'h3']) hh.event(`${home}-door`, { type: 'door.opened' });
    hh.advance('2m');
    for (const home of ['h1', 'h3']) hh.event(`${home}-door`, { type: 'door.closed' });
    for (const id of ['h1-sos', 'h2-sos', 'h3-sos', 'h1-smoke', 'h2-smoke', 'h3-smoke'])
      hh.event(id, { type: 'heartbeat', battery: 90 - day * 10, rssi: -55 - day });
    to(day, '11:00');
    if (day === 0) {
      // A shift starts: two logins; one ends with a logout, a removed staff member's sessions end.
      const session = (e: Record<string, unknown>) =>
        hh.hub.core.machine.submitNow({
          kind: 'session',
          at: hh.clock.now(),
          ...e,
        } as unknown as SessionLogEntry);
      session({
        op: 'open',
        tokenHash: 'hash-duty1',
        staffId: 'duty1',
        expiresAt: hh.clock.now() + 12 * 3600_000,
      });
      session({
        op: 'open',
        tokenHash: 'hash-sup1',
        staffId: 'supervisor1',
        expiresAt: hh.clock.now() + 3600_000,
      });
      session({ op: 'close', tokenHash: 'hash-sup1' });
      session({ op: 'close-staff', staffId: 'duty1' });
      session({
        op: 'open',
        tokenHash: 'hash-duty1b',
        staffId: 'duty1',
        expiresAt: hh.clock.now() + 12 * 3600_000,
      });
      // SOS, pressed twice, acknowledged, noted, resolved.
      hh.event('h1-sos', { type: 'sos.pressed' });
      hh.advance('20s');
      hh.event('h1-sos', { type: 'sos.pressed' });
      const sos = open1(hh, 'sos', 'h1')[0]?.alert.id ?? '';
      hh.act({ type: 'ack', alertId: sos }, 'duty1');
      hh.act({ type: 'note', alertId: sos, text: 'called the daughter' }, 'duty1');
      hh.advance('40m');
      hh.act({ type: 'resolve', alertId: sos, outcome: 'genuine', note: 'helped up' }, 'duty1');
    }
    if (day === 1) {
      // A fire nobody answers for 4 minutes: it escalates twice; then a smoke test (never a fire).
      hh.event('h2-smoke', { type: 'smoke.detected' });
      hh.advance('4m');
      const fire = open1(hh, 'smoke', 'h2')[0]?.alert.id ?? '';
      hh.act({ type: 'assign', alertId: fire, staffId: 'duty1' });
      hh.act({ type: 'resolve', alertId: fire, outcome: 'false_alarm' });
      hh.event('h2-smoke', { type: 'smoke.cleared' });
      hh.event('h3-smoke', { type: 'smoke.test' });
      // Tamper and a battery running low.
      hh.event('h3-sos', { type: 'tamper' });
      hh.event('h3-door', { type: 'heartbeat', battery: 12 });
      // A crash mid-day: the soft state of the last minute comes back from the log.
      hh.advance('30s');
      hh.event('h1-door', { type: 'heartbeat', rssi: -77 });
      hh = hh.restart(hh.clock.now() + 60_000);
    }
    if (day === 1) {
      // Check-ins (issue 21): a daily press on h1's button; a staff override of h3's learned rhythm.
      hh.event('h1-sos', { type: 'checkin' });
      hh.setRhythm('h3', { type: 'override', askAfterHours: 6 });
    }
    if (day === 2) {
      // h2 answers the question its quiet week brings, with a stale request id.
      hh.event('h2-sos', { type: 'checkin', requestId: 'ci-stale' });
      hh.setRhythm('h3', { type: 'clear' });
      hh.setRhythm('h1', { type: 'forget' }, 'duty1');
      // Site administration (issue 18): a home with two devices added at run time, used, one device's
      // secret rotated, a grid and a staff member added, the home moved to that grid, a device retired.
      const hash = 'scrypt$16384$8$1$vX4+k36lipOj5DXXeuuGAg==$JjLKEBGFgE4Sm5WODYkEyHgyDLKkuL786MBWdqq5+/M=';
      const admin = (ops: DirectoryOp[], homeId?: string) =>
        hh.hub.core.machine.submitNow({
          kind: 'directory',
          at: hh.clock.now(),
          actor: 'admin1',
          ops,
          ...(homeId ? { homeId } : {}),
        });
      const home = {
        id: 'h9',
        address: 'Wenting Lane 9-901',
        grid: 'g1',
        residents: [{ id: 'r9', name: 'Resident Nine', wanderingRisk: false }],
        contacts: [{ name: 'Son Nine', relation: 'family' as const, phone: '+86 137 0000 0009', notify: [] }],
      };
      admin(
        [
          { op: 'home.put', mode: 'create', home },
          {
            op: 'device.put',
            mode: 'create',
            device: { id: 'h9-sos', kind: 'sos_button', homeId: 'h9' },
            secretHash: hash,
          },
          {
            op: 'device.put',
            mode: 'create',
            device: { id: 'h9-door', kind: 'door_sensor', homeId: 'h9' },
            secretHash: hash,
          },
        ],
        'h9',
      );
      hh.event('h9-sos', { type: 'sos.pressed' });
      hh.event('h9-door', { type: 'door.opened' });
      admin([{ op: 'device.secret', deviceId: 'h9-sos', secretHash: hash.replace('vX4', 'vX5') }], 'h9');
      admin([
        { op: 'grid.put', mode: 'create', grid: { id: 'g9', name: 'Grid nine' } },
        {
          op: 'staff.put',
          mode: 'create',
          staff: { id: 'duty9', name: 'Duty Nine', role: 'duty', grids: ['g9'] },
          passwordHash: hash,
        },
        { op: 'home.put', mode: 'update', home: { ...home, grid: 'g9' } },
      ]);
      hh.advance('5m');
      admin([{ op: 'device.delete', deviceId: 'h9-door' }], 'h9');
      for (const a of open1(hh, 'sos', 'h9'))
        hh.act({ type: 'resolve', alertId: a.alert.id, outcome: 'test' }, 'duty9');
      // The door left open.
      hh.event('h3-door', { type: 'door.opened' });
      hh.advance('15m');
      hh.event('h3-door', { type: 'door.closed' });
      // h3 goes away until tomorrow noon (the expiry is a timer entry); h2 in maintenance.
      hh.setMode('h3', 'away', at(3, '12:00'));
      hh.setMode('h2', 'maintenance', null);
    }
    if (day === 3) {
      // A device goes offline and stays so; h2 back from maintenance.
      hh.event('h1-smoke', { type: 'status.offline' });
      hh.setMode('h2', 'home', null);
      // A clean restart.
      hh = hh.restartClean(hh.clock.now() + 120_000);
      hh.event('h1-smoke', { type: 'status.online' });
    }
    if (day === 4) {
      // The wandering resident's door at night: night exit.
      to(day, '23:50');
      hh.advance('150m');
      hh.event('h1-door', { type: 'door.opened' });
      hh.advance('12m');
      hh.event('h1-door', { type: 'door.closed' });
    }
    // h2 (door only) is quiet all week: inactivity comes around, and is resolved as a false alarm.
    for (const a of open1(hh, 'inactivity'))
      hh.act(
        { type: 'resolve', alertId: a.alert.id, outcome: 'false_alarm', note: 'resting' },
        'supervisor1',
      );
    for (const a of open1(hh, 'battery_low')) hh.act({ type: 'ack', alertId: a.alert.id }, 'supervisor1');
  }
  to(days, '05:00');
  return hh;
}

describe('determinism: the state is a function of the log', () => {
  it('a drill week (every alert kind, staff actions, modes, a crash and a clean restart) replays into an empty data dir with the same digest', () => {
    const live = tempDir();
    h = playWeek(live);
    const kinds = new Set(h.alerts().map((a) => a.alert.kind));
    for (const k of [
      'sos',
      'smoke',
      'night_exit',
      'door_left_open',
      'inactivity',
      'device_offline',
      'battery_low',
      'tamper',
    ])
      expect(kinds, `the week raised ${k}`).toContain(k);
    // the rhythm entries were applied: h1 learns afresh from day 2, h3's override was cleared
    expect(h.hub.core.rules.rhythmOf('h1')?.learnFrom).toBe(START + 2 * 24 * 3600_000 + 5 * 3600_000);
    expect(h.hub.core.rules.rhythmOf('h3')?.override).toBeNull();
    h.stop();
    h = undefined;

    const source = open(live);
    const expected = source.digest();
    expect(expected.position).toBeGreaterThan(100);
    const reader = openLogReader(live);
    const copy = open(join(tempDir(), 'copy'));
    expect(replayInto(reader, copy)).toBe(expected.position);
    reader.close();
    expect(copy.digest()).toEqual(expected);
  });

  it('two stores fed the same entries side by side agree after every entry', { timeout: 120_000 }, () => {
    // Five days (crash, clean restart, modes and their expiry, all but night exit): a digest per entry.
    const live = tempDir();
    h = playWeek(live, 5);
    h.stop();
    h = undefined;
    const source = open(live);
    const a = open(join(tempDir(), 'a'));
    const b = open(join(tempDir(), 'b'));
    let compared = 0;
    for (let at = 0; ; ) {
      const page = source.read(at, 1);
      const entry = page[0];
      if (!entry) break;
      a.copy(page);
      b.copy(page);
      const da = a.digest();
      expect(b.digest(), `after entry ${entry.position} (${entry.entry.kind})`).toEqual(da);
      compared++;
      at = entry.position;
    }
    expect(compared).toBe(source.position);
    console.info(`determinism: ${compared} entries applied side by side, digests equal after each`);
    expect(a.digest()).toEqual(source.digest());
  });

  it('a replay refuses a log that retention has cut, and a target that is not empty', () => {
    const live = tempDir();
    h = RulesHarness.create({ start: START, dataDir: live });
    h.event('h1-sos', { type: 'sos.pressed' });
    h.stop();
    h = undefined;
    const copy = open(join(tempDir(), 'copy'));
    const cut = { first: () => 5, read: () => [] };
    expect(() => replayInto(cut, copy)).toThrow(/retention removed entries 1-4/);
  });
});
