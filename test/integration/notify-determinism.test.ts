import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../hub/src/config/load.js';
import { replayInto } from '../../hub/src/core/replay.js';
import { Replica } from '../../hub/src/core/replica.js';
import { createLogger } from '../../hub/src/log.js';
import { openLogReader } from '../../hub/src/store/log-reader.js';
import { demoRaw } from '../helpers/hub.js';
import { notifyRaw } from '../helpers/notify-servers.js';
import { RulesHarness } from '../helpers/rules-harness.js';

/**
 * The notification ladder is state: its timers, outbox rows, attempts (delivery entries) and the
 * contacts going replay from the log into an empty data dir to the same digest, and two stores fed
 * the same entries agree after each. The sender is not started here: its results are submitted as
 * the sender submits them (`delivery` entries).
 */
const START = Date.parse('2026-11-23T10:00:00+08:00');
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

function tempDir(): string {
  const d = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'carehub-notify-det-'));
  dirs.push(d);
  return d;
}

// Nothing listens on port 9: the sender would fail, but it does not run in this harness.
const RAW = notifyRaw(demoRaw(), {
  smtpPort: 9,
  webhook: 'http://127.0.0.1:9/hook',
  wecom: 'http://127.0.0.1:9',
  sms: 'http://127.0.0.1:9',
});

const open = (dataDir: string) => {
  const r = Replica.open(parseConfig({ ...RAW, clock: 'manual', dataDir }, {}), log);
  replicas.push(r);
  return r;
};

function play(dataDir: string): RulesHarness {
  let hh = RulesHarness.create({ raw: RAW, start: START, dataDir });
  const sos = () =>
    hh.alerts({ kind: 'sos', homeId: 'h1' }).filter((a) => a.alert.status !== 'resolved')[0]?.alert.id ?? '';
  const deliver = (
    rowId: string,
    attempt: number,
    result: 'sent' | 'retry' | 'failed',
    detail: string,
    retryAt?: number,
  ) =>
    hh.hub.core.machine.submitNow({
      kind: 'delivery',
      at: hh.clock.now(),
      rowId,
      attempt,
      result,
      detail,
      retryAt,
    });
  // 1. An SOS nobody answers: family at 60 s (email retried, webhook sent), grid worker at 180 s, the daughter goes.
  hh.event('h1-sos', { type: 'sos.pressed' });
  const a1 = sos();
  hh.advance('61s');
  deliver(`${a1}.1.0.email`, 1, 'retry', 'ECONNREFUSED', hh.clock.now() + 4000);
  deliver(`${a1}.1.0.webhook`, 1, 'sent', 'HTTP 200');
  hh.advance('5s');
  deliver(`${a1}.1.0.email`, 2, 'sent', '250 OK');
  deliver(`${a1}.1.0.email`, 2, 'sent', '250 OK'); // a repeat of a recorded attempt: nothing changes
  // A crash: the ladder's timers and rows survive it.
  hh = hh.restart(hh.clock.now() + 30_000);
  hh.advance('2m');
  deliver(`${a1}.2.1.webhook`, 1, 'failed', 'HTTP 410');
  deliver(`${a1}.2.1.wecom`, 1, 'retry', 'errcode 45009', hh.clock.now() + 60_000);
  hh.hub.core.machine.submitNow({ kind: 'contact-ack', at: hh.clock.now(), alertId: a1, contact: 0 });
  hh.hub.core.machine.submitNow({ kind: 'contact-ack', at: hh.clock.now(), alertId: a1, contact: 0 });
  hh.advance('10m');
  hh.resolve(a1);
  // 2. One acknowledged at 30 s: nothing at all.
  hh.event('h1-sos', { type: 'sos.pressed' });
  hh.advance('30s');
  hh.act({ type: 'ack', alertId: sos() }, 'duty1');
  hh.advance('10m');
  hh.resolve(sos());
  // 3. A low battery at night: held until the quiet hours end (08:00), then told.
  hh.advanceTo('2026-11-23T23:30:00+08:00');
  hh.event('h1-door', { type: 'heartbeat', battery: 5 });
  hh.advance('2m');
  hh.advanceTo('2026-11-24T08:05:00+08:00');
  hh = hh.restartClean(hh.clock.now());
  return hh;
}

describe('determinism of the notification ladder', () => {
  it('a drill with notifications (steps, retries, a failure, a contact going, a crash) replays to the same digest', () => {
    const live = tempDir();
    h = play(live);
    const rows = h.hub.store.notify;
    const a1 = h.alerts({ kind: 'sos', homeId: 'h1' })[0]?.alert.id ?? '';
    expect(
      rows.byAlert(a1).map((r) => `${r.step}.${r.contact}.${r.channel}:${r.status}:${r.attempts}`),
    ).toEqual([
      '1.0.email:sent:2',
      '1.0.webhook:sent:1',
      '2.1.sms:cancelled:0',
      '2.1.webhook:failed:1',
      '2.1.wecom:cancelled:1',
    ]);
    expect(rows.going(a1).map((g) => g.contact)).toEqual([0]);
    expect(rows.attempts(a1)).toHaveLength(5);
    // the second SOS, acknowledged at 30 s, has no row at all
    const a2 = h.alerts({ kind: 'sos', homeId: 'h1' })[1]?.alert.id ?? '';
    expect(rows.byAlert(a2)).toEqual([]);
    const battery = h.alerts({ kind: 'battery_low', homeId: 'h1' })[0];
    expect(battery).toBeDefined();
    const batteryRows = rows.byAlert(battery?.alert.id ?? '');
    // held through the night: the family row was written at 08:00 local, not at 23:32
    expect(batteryRows.map((r) => r.createdAt)).toContain(Date.parse('2026-11-24T08:00:00+08:00'));
    expect(battery?.alert.notes.some((n) => n.texts?.en?.includes('contacts are told at 08:00'))).toBe(true);
    h.stop();
    h = undefined;
    const source = open(live);
    const expected = source.digest();
    const copy = open(join(tempDir(), 'copy'));
    const reader = openLogReader(live);
    replayInto(reader, copy);
    reader.close();
    expect(copy.digest()).toEqual(expected);
    // the notify part is not empty (a digest of nothing would agree too)
    const empty = open(join(tempDir(), 'empty'));
    expect(expected.parts.notify).not.toBe(empty.digest().parts.notify);
  });

  it('two stores fed the same entries agree after every entry', () => {
    const live = tempDir();
    h = play(live);
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
      expect(b.digest(), `after entry ${entry.position} (${entry.entry.kind})`).toEqual(a.digest());
      at = entry.position;
    }
    expect(a.digest()).toEqual(source.digest());
  });
});
