import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret } from '../../hub/src/auth/secrets.js';
import { parseConfig } from '../../hub/src/config/load.js';
import { replayInto } from '../../hub/src/core/replay.js';
import { Replica } from '../../hub/src/core/replica.js';
import { ErrorCodes, HubError } from '../../hub/src/errors.js';
import { createLogger } from '../../hub/src/log.js';
import { Hub } from '../../hub/src/main.js';
import type { DirectoryLogEntry } from '../../hub/src/model/entries.js';
import type { Problem } from '../../hub/src/site/problems.js';
import { openLogReader } from '../../hub/src/store/log-reader.js';
import { devicePut, directoryEntry, homeRecord } from '../helpers/directory-ops.js';
import { demoRaw } from '../helpers/hub.js';
import { RulesHarness } from '../helpers/rules-harness.js';

/**
 * Site administration on the log (issue 18): directory changes are `directory` entries applied by
 * the one applier, so they reach the rules at once, refuse whole, roll back whole, erase what a
 * removed home leaves behind, and replay to the same state.
 */
const START = Date.parse('2026-11-23T09:00:00+08:00');
const log = createLogger('silent');
const dirs: string[] = [];
const replicas: Replica[] = [];
let h: RulesHarness | undefined;
let hash = '';

afterEach(() => {
  for (const r of replicas.splice(0)) r.close();
  h?.close();
  h = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'carehub-dirlog-'));
  dirs.push(d);
  return d;
}

async function secretHash(): Promise<string> {
  hash ||= await hashSecret('test-secret-of-enough-length');
  return hash;
}

function submit(hh: RulesHarness, entry: DirectoryLogEntry): unknown {
  return hh.hub.core.machine.submitNow(entry);
}

function refusedWith(fn: () => unknown): { code: string; problems: Problem[] } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    const e = err as HubError;
    return { code: e.code, problems: (e.details as { problems: Problem[] }).problems };
  }
  throw new Error('not refused');
}

/** h20 with an SOS button and a door sensor, added as the API adds them (one entry). */
async function addHome(hh: RulesHarness, id = 'h20'): Promise<void> {
  const sh = await secretHash();
  submit(
    hh,
    directoryEntry(
      hh.clock.now(),
      [
        { op: 'home.put', mode: 'create', home: homeRecord(id) },
        devicePut(id, `${id}-sos`, 'sos_button', sh),
        devicePut(id, `${id}-door`, 'door_sensor', sh),
      ],
      { homeId: id },
    ),
  );
}

describe('directory changes on the log', () => {
  it('a home added at run time: its devices are accepted, the rules watch it, the change is audited without personal data', async () => {
    h = RulesHarness.create({ start: START });
    await addHome(h);
    expect(h.hub.directory.device('h20-sos')?.home.id).toBe('h20');
    expect(h.hub.core.scheduler.has('device_offline:h20:sup:h20-sos')).toBe(true);
    h.event('h20-sos', { type: 'sos.pressed' });
    expect(h.kinds()).toContain('h20:sos');
    const audit = h.hub.store.audit.query({ action: 'directory.home.put', limit: 10 });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0]?.data)).not.toContain('Test Lane');
    const data = audit[0]?.data as { after: { address: string }; changed: string[] };
    expect(data.after.address).toBe('•');
    expect(data.changed).toContain('address');
    // The history keeps the values (erased with the home); never a secret's hash.
    const changes = h.hub.store.directory.changes({ homeId: 'h20', limit: 10 });
    expect(changes.map((c) => c.op).sort()).toEqual(['device.put', 'device.put', 'home.put']);
    expect(JSON.stringify(changes)).toContain('Test Lane h20');
    expect(JSON.stringify(changes)).not.toContain('scrypt$');
  });

  it('a change with problems is refused whole, every problem named by field, nothing kept', async () => {
    h = RulesHarness.create({ start: START });
    await addHome(h, 'h21');
    const before = h.hub.store.journal.lastSeq();
    const version = h.hub.directory.version;
    const { code, problems } = refusedWith(() =>
      submit(
        h as RulesHarness,
        directoryEntry(h?.clock.now() ?? 0, [
          { op: 'home.put', mode: 'create', home: homeRecord('h1') }, // duplicate
          { op: 'home.put', mode: 'create', home: homeRecord('h22', { grid: 'nowhere' }) },
          devicePut('h22', 'h22-door', 'door_sensor', null, {
            zigbee: { gateway: 'h21-sos', friendlyName: 'door' },
          }),
          devicePut('h22', 'h1-sos', 'sos_button', null), // duplicate device id
        ]),
      ),
    );
    expect(code).toBe(ErrorCodes.DIRECTORY_INVALID);
    expect(problems.map((p) => [p.op, p.field, p.code])).toEqual([
      [0, 'id', ErrorCodes.DUPLICATE_ID],
      [1, 'grid', ErrorCodes.UNKNOWN_GRID],
      [2, 'zigbee.gateway', ErrorCodes.GATEWAY_MISMATCH],
      [3, 'id', ErrorCodes.DUPLICATE_ID],
    ]);
    expect(problems[1]?.message).toBe('there is no grid nowhere: add the grid first');
    expect(h.hub.store.journal.lastSeq()).toBe(before);
    expect(h.hub.directory.version).toBe(version);
    expect(h.hub.directory.home('h22')).toBeUndefined();
  });

  it('a device of one home cannot be paired with another home’s gateway', async () => {
    h = RulesHarness.create({ start: START });
    const sh = await secretHash();
    submit(
      h,
      directoryEntry(h.clock.now(), [
        { op: 'home.put', mode: 'create', home: homeRecord('z1') },
        devicePut('z1', 'z1-gw', 'gateway', sh),
        { op: 'home.put', mode: 'create', home: homeRecord('z2') },
      ]),
    );
    const { code, problems } = refusedWith(() =>
      submit(
        h as RulesHarness,
        directoryEntry(h?.clock.now() ?? 0, [
          devicePut('z2', 'z2-door', 'door_sensor', null, {
            zigbee: { gateway: 'z1-gw', friendlyName: 'door' },
          }),
        ]),
      ),
    );
    expect(code).toBe(ErrorCodes.GATEWAY_MISMATCH);
    expect(problems[0]?.params).toEqual({ gateway: 'z1-gw', home: 'z1' });
    // Its own home's gateway is fine; then the gateway cannot go while a device is paired with it.
    submit(
      h,
      directoryEntry(h.clock.now(), [
        devicePut('z1', 'z1-door', 'door_sensor', null, {
          zigbee: { gateway: 'z1-gw', friendlyName: 'door' },
        }),
      ]),
    );
    expect(h.hub.directory.zigbeeDevice('z1-gw', 'door')?.device.id).toBe('z1-door');
    expect(
      refusedWith(() =>
        submit(h as RulesHarness, directoryEntry(0, [{ op: 'device.delete', deviceId: 'z1-gw' }])),
      ).code,
    ).toBe(ErrorCodes.IN_USE);
  });

  it('a rolled-back directory entry: the in-memory directory is the store’s again, and the change can be made afterwards', async () => {
    h = RulesHarness.create({ start: START });
    const hh = h;
    const db = hh.hub.store.db;
    const home1 = hh.hub.directory.home('h1');
    db.exec(
      `CREATE TEMP TRIGGER fail_dev BEFORE INSERT ON dir_devices BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    await expect(addHome(hh)).rejects.toThrow('disk full');
    db.exec('DROP TRIGGER temp.fail_dev');
    expect(hh.hub.directory.home('h20')).toBeUndefined();
    expect(hh.hub.directory.device('h20-sos')).toBeUndefined();
    expect(hh.hub.core.scheduler.has('device_offline:h20:sup:h20-sos')).toBe(false);
    // Loaded again from the store: new objects, same content.
    expect(hh.hub.directory.home('h1')).toEqual(home1);
    // An update whose audit row fails: the address stays.
    db.exec(
      `CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    const moved = { ...hh.hub.directory.homeRecord('h1'), address: 'Elsewhere 1' } as ReturnType<
      typeof homeRecord
    >;
    expect(() =>
      submit(hh, directoryEntry(hh.clock.now(), [{ op: 'home.put', mode: 'update', home: moved }])),
    ).toThrow('disk full');
    db.exec('DROP TRIGGER temp.fail_audit');
    expect(hh.hub.directory.home('h1')?.address).toBe(home1?.address);
    await addHome(hh);
    hh.event('h20-sos', { type: 'sos.pressed' });
    expect(hh.kinds()).toContain('h20:sos');
  });

  it('a home’s rule settings changed at run time reach the rules at once (a new HomeConfig object)', async () => {
    h = RulesHarness.create({ start: START });
    const before = h.hub.directory.home('h2');
    const record = {
      ...h.hub.directory.homeRecord('h2'),
      rules: { doorLeftOpen: { minutes: 30 } },
    } as ReturnType<typeof homeRecord>;
    submit(
      h,
      directoryEntry(h.clock.now(), [{ op: 'home.put', mode: 'update', home: record }], { homeId: 'h2' }),
    );
    expect(h.hub.directory.home('h2')).not.toBe(before);
    expect(
      h.hub.core.rules.settingsFor(h.hub.directory.home('h2') as NonNullable<typeof before>).doorLeftOpen
        .minutes,
    ).toBe(30);
    h.event('h2-door', { type: 'door.opened' });
    h.advance('15m');
    expect(h.alerts({ kind: 'door_left_open', homeId: 'h2' })).toHaveLength(0);
    h.advance('16m');
    expect(h.alerts({ kind: 'door_left_open', homeId: 'h2' })).toHaveLength(1);
  });

  it('a retired device: its later events keep nothing, and its state, timers and the rules’ memory of it go', async () => {
    h = RulesHarness.create({ start: START });
    await addHome(h);
    h.event('h20-door', { type: 'door.opened' });
    expect(h.state('h20').doors['h20-door']?.open).toBe(true);
    expect(h.hub.core.scheduler.has('door_left_open:h20:open:h20-door')).toBe(true);
    submit(
      h,
      directoryEntry(h.clock.now(), [{ op: 'device.delete', deviceId: 'h20-door' }], { homeId: 'h20' }),
    );
    expect(h.hub.directory.device('h20-door')).toBeUndefined();
    expect(h.state('h20').doors['h20-door']).toBeUndefined();
    expect(h.hub.core.scheduler.has('door_left_open:h20:open:h20-door')).toBe(false);
    expect(h.hub.core.scheduler.has('device_offline:h20:sup:h20-door')).toBe(false);
    expect(h.hub.store.devices.get('h20-door')).toBeUndefined();
    // An event it sent before it was retired, applied after: nothing kept, no alert.
    void h.hub.store.journal.append({
      deviceId: 'h20-door',
      homeId: 'h20',
      receivedAt: h.clock.now(),
      type: 'door.opened',
      payload: '{"type":"door.opened"}',
    });
    h.hub.store.journal.flushNow();
    h.advance('30m');
    expect(h.hub.store.devices.get('h20-door')).toBeUndefined();
    expect(h.alerts({ kind: 'door_left_open' })).toHaveLength(0);
  });

  it('a home removed: refused while it has unresolved alerts unless forced; then its alerts, feed, state and log rows are erased', async () => {
    h = RulesHarness.create({ start: START });
    await addHome(h);
    h.event('h20-sos', { type: 'sos.pressed' });
    h.event('h20-door', { type: 'door.opened' });
    const del = (force: boolean) =>
      submit(
        h as RulesHarness,
        directoryEntry(h?.clock.now() ?? 0, [{ op: 'home.delete', homeId: 'h20', force }]),
      );
    const refused = refusedWith(() => del(false));
    expect(refused.code).toBe(ErrorCodes.PURGE_REFUSED);
    expect(refused.problems[0]?.params.count).toBe('1');
    expect(h.hub.directory.home('h20')).toBeDefined();
    del(true);
    const db = h.hub.store.db;
    const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
    expect(h.hub.directory.home('h20')).toBeUndefined();
    expect(h.hub.directory.device('h20-sos')).toBeUndefined();
    expect(h.alerts({ homeId: 'h20' })).toHaveLength(0);
    expect(count("SELECT count(*) AS n FROM feed_log WHERE home_id = 'h20'")).toBe(0);
    expect(count("SELECT count(*) AS n FROM timers WHERE home_id = 'h20'")).toBe(0);
    expect(h.hub.store.homeStates.stored('h20')).toBeUndefined();
    expect(h.hub.store.devices.get('h20-sos')).toBeUndefined();
    expect(h.hub.store.directory.changes({ homeId: 'h20', limit: 10 })).toHaveLength(0);
    // The log rows (device events and the entries naming its residents) go in steps.
    expect(count("SELECT count(*) AS n FROM journal WHERE home_id = 'h20'")).toBeGreaterThan(0);
    expect(h.hub.store.erasure.pending()).toBe(1);
    h.hub.store.erasure.drain();
    expect(count("SELECT count(*) AS n FROM journal WHERE home_id = 'h20'")).toBe(0);
    expect(count("SELECT count(*) AS n FROM journal WHERE payload LIKE '%Resident h20%'")).toBe(0);
    // The audit trail keeps who removed it (and no name).
    const audit = h.hub.store.audit.query({ action: 'directory.home.delete', limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor).toBe('admin1');
  });

  it('a resident removed: the home stays, its history is erased (as purge-resident)', async () => {
    h = RulesHarness.create({ start: START });
    await addHome(h);
    const both = homeRecord('h20', {
      residents: [
        { id: 'r-h20', name: 'Resident h20', wanderingRisk: false },
        { id: 'r-h20b', name: 'Partner h20', wanderingRisk: false },
      ],
    });
    submit(
      h,
      directoryEntry(h.clock.now(), [{ op: 'home.put', mode: 'update', home: both }], { homeId: 'h20' }),
    );
    h.event('h20-sos', { type: 'sos.pressed' });
    const id = h.alerts({ homeId: 'h20' })[0]?.alert.id ?? '';
    h.resolve(id);
    const one = homeRecord('h20', {
      residents: [{ id: 'r-h20', name: 'Resident h20', wanderingRisk: false }],
    });
    submit(
      h,
      directoryEntry(h.clock.now(), [{ op: 'home.put', mode: 'update', home: one }], { homeId: 'h20' }),
    );
    expect(h.hub.directory.residentHome('r-h20b')).toBeUndefined();
    expect(h.hub.directory.home('h20')?.devices).toHaveLength(2);
    expect(h.alerts({ homeId: 'h20' })).toHaveLength(0);
    h.hub.store.erasure.drain();
    expect(JSON.stringify(h.hub.store.journal.readAfter(0, 100_000))).not.toContain('Partner h20');
    expect(JSON.stringify(h.hub.store.directory.changes({ limit: 100 }))).not.toContain('Partner h20');
  });
});

describe('directory changes replay', () => {
  function configFor(dataDir: string) {
    return parseConfig({ ...demoRaw(), clock: 'manual', dataDir }, {});
  }
  function open(dataDir: string): Replica {
    const r = Replica.open(configFor(dataDir), log);
    replicas.push(r);
    return r;
  }

  async function playAdminDay(dataDir: string): Promise<RulesHarness> {
    const hh = RulesHarness.create({ start: START, dataDir });
    await addHome(hh);
    hh.event('h20-sos', { type: 'sos.pressed' });
    hh.advance('2m');
    hh.act({ type: 'ack', alertId: hh.alerts({ homeId: 'h20' })[0]?.alert.id ?? '' });
    const sh = await hashSecret('rotated-secret-for-the-test');
    submit(
      hh,
      directoryEntry(hh.clock.now(), [{ op: 'device.secret', deviceId: 'h20-sos', secretHash: sh }], {
        homeId: 'h20',
      }),
    );
    submit(
      hh,
      directoryEntry(hh.clock.now(), [
        { op: 'grid.put', mode: 'create', grid: { id: 'g3', name: 'Grid 3' } },
      ]),
    );
    submit(
      hh,
      directoryEntry(hh.clock.now(), [
        {
          op: 'staff.put',
          mode: 'create',
          staff: { id: 'duty3', name: 'Duty 3', role: 'duty', grids: ['g3'] },
          passwordHash: sh,
        },
        { op: 'home.put', mode: 'update', home: homeRecord('h20', { grid: 'g3', address: 'Moved 1' }) },
      ]),
    );
    hh.advance('1h');
    submit(
      hh,
      directoryEntry(hh.clock.now(), [{ op: 'device.delete', deviceId: 'h20-door' }], { homeId: 'h20' }),
    );
    hh.event('h20-sos', { type: 'heartbeat', battery: 15 });
    hh.advance('3h');
    return hh;
  }

  it('admin changes (home, devices, a rotated secret, a grid, staff, a retired device) replay into an empty data dir with the same digest', async () => {
    const live = tempDir();
    h = await playAdminDay(live);
    h.stop();
    h = undefined;
    const source = open(live);
    const expected = source.digest();
    const reader = openLogReader(live);
    const copy = open(join(tempDir(), 'copy'));
    expect(replayInto(reader, copy)).toBe(expected.position);
    reader.close();
    expect(copy.digest()).toEqual(expected);
    expect(expected.parts.directory).toMatch(/^[0-9a-f]{64}$/);
  });

  it('two stores fed the same entries side by side agree after each, an erasure included; a replay from scratch is then refused', async () => {
    const live = tempDir();
    h = await playAdminDay(live);
    h.hub.core.machine.submitNow(
      directoryEntry(h.clock.now(), [{ op: 'home.delete', homeId: 'h20', force: true }]),
    );
    h.stop();
    h = undefined;
    const source = open(live);
    const a = open(join(tempDir(), 'a'));
    const b = open(join(tempDir(), 'b'));
    for (let at = 0; ; ) {
      const page = source.read(at, 1);
      const entry = page[0];
      if (!entry) break;
      a.copy(page);
      b.copy(page);
      if (entry.entry.kind === 'directory')
        expect(b.digest(), `after entry ${entry.position}`).toEqual(a.digest());
      at = entry.position;
    }
    expect(a.digest()).toEqual(b.digest());
    const reader = openLogReader(live);
    expect(() => replayInto(reader, open(join(tempDir(), 'c')))).toThrow(/erased a home's data/);
    reader.close();
  });
});

describe('the directory and the configuration file', () => {
  it('the first start seeds the store from the file; later the store is the truth and a changed file is named in a warning', () => {
    const dataDir = tempDir();
    const lines: string[] = [];
    const capture = createLogger('warn', { write: (l: string) => lines.push(l) });
    const raw = { ...demoRaw(), clock: 'manual', dataDir };
    const first = new Hub(parseConfig(raw), {
      logger: log,
      processMetrics: false,
      manualClockStart: START,
      lockDataDir: false,
    });
    first.openCore();
    expect(first.store.directory.seededAt()).toBe(1);
    expect(first.store.journal.readAfter(0, 1)[0]?.entry).toMatchObject({ kind: 'directory', seed: true });
    expect(first.directory.homes().map((x) => x.id)).toEqual(['h1', 'h2', 'h3']);
    first.core.scheduler.stop();
    first.store.journal.close();
    first.store.close();

    const changed = demoRaw() as { homes: Array<Record<string, unknown>> };
    changed.homes = changed.homes.slice(0, 2);
    (changed.homes[0] as { address: string }).address = 'Somewhere else';
    const second = new Hub(parseConfig({ ...changed, clock: 'manual', dataDir }), {
      logger: capture,
      processMetrics: false,
      manualClockStart: START + 60_000,
      lockDataDir: false,
    });
    second.openCore();
    expect(second.directory.homes().map((x) => x.id)).toEqual(['h1', 'h2', 'h3']);
    expect(second.directory.home('h1')?.address).toContain('Wenting Lane 3-101');
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.onlyInStore);
    expect(warn?.onlyInStore).toContain('home h3');
    expect(warn?.differ).toContain('home h1');
    expect(String(warn?.msg)).toContain('carehub import --config');
    second.core.scheduler.stop();
    second.store.journal.close();
    second.store.close();
  });
});
