import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hub/src/clock/clock.js';
import { createLogger } from '../../hub/src/log.js';
import type { AlertRecord } from '../../hub/src/model/alert.js';
import { type HubStore, openStore } from '../../hub/src/store/open-store.js';
import { Scheduler } from '../../hub/src/timers/scheduler.js';

/**
 * The store's repositories as the applier uses them: each keeps its rows, and every cache that
 * writes through inside a unit of work agrees with its table again after that unit rolls back.
 */
const T0 = Date.UTC(2026, 10, 26, 1);
let dir: string;
let store: HubStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'carehub-store-'));
  store = openStore(dir, createLogger('silent'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Run `work` in a unit of work that then fails, as a full disk would. */
function rolledBack(work: () => void): void {
  expect(() =>
    store.uow.run(() => {
      work();
      throw new Error('disk full');
    }),
  ).toThrow('disk full');
}

function alert(id: string, status: 'open' | 'resolved' = 'open', version = 1): AlertRecord {
  return {
    mergeKey: `sos:${id}`,
    raisedAtMs: T0,
    updatedAtMs: T0,
    acknowledgedAtMs: null,
    resolvedAtMs: null,
    alert: {
      id,
      version,
      kind: 'sos',
      severity: 'critical',
      status,
      homeId: 'h1',
      residentIds: ['r1'],
      deviceId: 'h1-sos',
      raisedAt: '2026-11-26T09:00:00.000+08:00',
      updatedAt: '2026-11-26T09:00:00.000+08:00',
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      outcome: null,
      occurrences: 1,
      escalationLevel: 0,
      cancelledByResident: false,
      title: { en: 'SOS' },
      notes: [],
      incidentId: id,
      assignedTo: null,
      late: false,
    },
  };
}

describe('store contract: alerts', () => {
  it('an update names the version it replaces: a stale one changes nothing', () => {
    store.alerts.insert(alert('a1'));
    expect(store.alerts.update(alert('a1', 'open', 2), 1)).toBe(true);
    expect(store.alerts.update(alert('a1', 'resolved', 3), 1)).toBe(false);
    expect(store.alerts.get('a1')?.alert.version).toBe(2);
  });

  it('an alert written in a rolled-back unit of work is not found open', () => {
    rolledBack(() => store.alerts.insert(alert('a2')));
    expect(store.alerts.findOpen('sos:a2')).toBeUndefined();
    expect(store.alerts.unresolved()).toEqual([]);
  });

  it('a resolve rolled back leaves the alert open for the rules', () => {
    store.alerts.insert(alert('a3'));
    rolledBack(() => store.alerts.update(alert('a3', 'resolved', 2), 1));
    store.alerts.pruneOpenKeys();
    expect(store.alerts.findOpen('sos:a3')?.alert.status).toBe('open');
  });
});

describe('store contract: home state', () => {
  it('a change rolled back is gone from the cache too', () => {
    const s = store.homeStates.load('h1', T0);
    s.mode = 'home';
    store.uow.run(() => store.homeStates.save('h1', s));
    rolledBack(() => {
      const st = store.homeStates.load('h1', T0);
      st.mode = 'away';
      store.homeStates.save('h1', st);
    });
    expect(store.homeStates.load('h1', T0).mode).toBe('home');
    expect(store.homeStates.stored('h1')?.mode).toBe('home');
  });

  it('reading a home never stores it; loading does, with its first time as the baseline', () => {
    expect(store.homeStates.peek('h9', T0).watchedSince).toBe(T0);
    expect(store.homeStates.stored('h9')).toBeUndefined();
    store.uow.run(() => store.homeStates.load('h9', T0 + 5));
    expect(store.homeStates.stored('h9')?.watchedSince).toBe(T0 + 5);
  });

  it('last seen is kept in memory until a flush writes it', () => {
    store.uow.run(() => store.homeStates.load('h1', T0));
    store.homeStates.touch('h1', 'h1-door', T0 + 1000);
    expect(store.homeStates.stored('h1')?.lastSeen['h1-door']).toBeUndefined();
    expect(store.homeStates.dirtyCount()).toBe(1);
    expect(store.homeStates.flush()).toBe(1);
    expect(store.homeStates.stored('h1')?.lastSeen['h1-door']).toBe(T0 + 1000);
  });
});

describe('store contract: device state', () => {
  it('a durable change rolled back is gone; soft changes wait for a flush', () => {
    const base = { deviceId: 'd1', online: true, battery: 90, batteryLow: false, rssi: -60, lastSeen: T0 };
    store.uow.run(() => store.devices.put({ ...base }, 'durable'));
    rolledBack(() => store.devices.put({ ...base, online: false }, 'durable'));
    expect(store.devices.get('d1')?.online).toBe(true);
    store.devices.put({ ...base, lastSeen: T0 + 5 }, 'soft');
    expect(store.devices.dirtyCount()).toBe(1);
    expect(store.devices.flushSoft()).toBe(0);
    store.devices.forget();
    expect(store.devices.get('d1')?.lastSeen).toBe(T0 + 5);
  });
});

describe('store contract: timers', () => {
  it('rows in due order; a timer set in a rolled-back unit of work is neither stored nor armed', () => {
    const clock = new ManualClock(T0);
    const fired: string[] = [];
    const scheduler = new Scheduler(clock, store.timers, (t) => fired.push(t.key));
    store.uow.register(scheduler);
    scheduler.start();
    store.uow.run(() => {
      scheduler.set({ key: 'b', homeId: 'h1', dueAt: T0 + 2000, data: { owner: 'rule' } });
      scheduler.set({ key: 'a', homeId: 'h1', dueAt: T0 + 1000, data: { owner: 'rule' } });
    });
    rolledBack(() => scheduler.set({ key: 'c', homeId: 'h1', dueAt: T0 + 500, data: { owner: 'rule' } }));
    expect(store.timers.keys()).toEqual([
      ['a', T0 + 1000],
      ['b', T0 + 2000],
    ]);
    expect(scheduler.has('c')).toBe(false);
    clock.advance(5000);
    expect(fired).toEqual(['a', 'b']);
  });
});

describe('store contract: Zigbee memory', () => {
  it('an older row never overwrites a newer one; a rolled-back write is written again', () => {
    store.uow.run(() => store.zigbee.put('z1', '{"smoke":false}', 10));
    store.uow.run(() => store.zigbee.put('z1', '{"smoke":true}', 5));
    expect(store.zigbee.get('z1')).toBe('{"smoke":false}');
    rolledBack(() => store.zigbee.put('z1', '{"smoke":true}', 20));
    expect(store.zigbee.get('z1')).toBe('{"smoke":false}');
    store.uow.run(() => store.zigbee.put('z1', '{"smoke":true}', 20));
    expect(store.zigbee.get('z1')).toBe('{"smoke":true}');
  });
});

describe('store contract: audit trail', () => {
  it('rows chain; a row appended in a rolled-back unit of work leaves no gap', () => {
    store.uow.run(() => store.audit.append(T0, 'duty1', 'login', '127.0.0.1'));
    rolledBack(() => store.audit.append(T0 + 1, 'duty1', 'resident.read', 'h1'));
    store.uow.run(() => store.audit.append(T0 + 2, 'duty1', 'logout', '127.0.0.1'));
    const v = store.audit.verify();
    expect(v).toMatchObject({ ok: true, rows: 2, headSeq: 2 });
  });
});
