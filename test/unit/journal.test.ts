import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { Journal, type JournalEntry } from '../../hub/src/store/journal.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { UnitOfWork } from '../../hub/src/store/unit-of-work.js';

const T0 = Date.UTC(2026, 10, 26, 1, 30);
const DAY = 24 * 3600_000;

function entry(over: Partial<JournalEntry> = {}): JournalEntry {
  const type = over.type ?? 'sos.pressed';
  return {
    deviceId: 'h1-sos',
    homeId: 'h1',
    receivedAt: T0,
    type,
    payload: JSON.stringify({ type }),
    ...over,
  };
}

describe('Journal', () => {
  let dir: string;
  let db: Db;
  let journal: Journal;
  const readers: Database.Database[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carehub-journal-'));
    db = openDatabase(dir);
    journal = new Journal(db, new UnitOfWork(db), createLogger('silent'));
  });
  afterEach(() => {
    for (const r of readers.splice(0)) r.close();
    journal.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A second connection, as another process would see the file. */
  function reader(): Database.Database {
    const r = new Database(join(dir, 'hub.db'), { readonly: true });
    readers.push(r);
    return r;
  }

  it('commits 1000 appends made in one tick in a single transaction, and resolves each with its own seq', async () => {
    const before = journal.stats.commits;
    const promises = Array.from({ length: 1000 }, (_, i) =>
      journal.append(entry({ eventId: `e${i}`, deviceId: `dev-${i % 7}` })),
    );
    expect(journal.stats.commits).toBe(before); // nothing is written synchronously
    const results = await Promise.all(promises);
    expect(journal.stats.commits - before).toBe(1);
    expect(journal.stats.rows).toBe(1000);
    const seqs = results.map((r) => r.seq);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    // in call order, each one a new row
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(1000);
    expect(journal.lastSeq()).toBe(seqs.at(-1));
  });

  it('holds commits for a checkpoint until release, except an SOS, which commits what is pending with it', async () => {
    journal.hold();
    let settled = 0;
    const hb = journal.append(entry({ type: 'heartbeat', eventId: 'hb1' })).then((r) => {
      settled++;
      return r;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(0); // held: not committed, not acknowledged
    expect(journal.lastSeq()).toBe(0);
    const sos = await journal.append(entry({ type: 'sos.pressed', eventId: 'sos1' }));
    expect((await hb).seq).toBeGreaterThan(0); // committed with the SOS, in the same transaction
    expect(sos.seq).toBe((await hb).seq + 1);
    const door = journal.append(entry({ type: 'door.opened', eventId: 'd1' }));
    await new Promise((r) => setTimeout(r, 30));
    expect(journal.lastSeq()).toBe(sos.seq); // still held for ordinary events
    journal.release();
    expect((await door).seq).toBe(sos.seq + 1);
  });

  it('commits what a hold kept waiting when it closes', async () => {
    journal.hold();
    const p = journal.append(entry({ type: 'heartbeat', eventId: 'hb1' }));
    journal.close();
    expect((await p).seq).toBe(1);
  });

  it('commits appends from separate ticks in separate transactions', async () => {
    const before = journal.stats.commits;
    await journal.append(entry({ eventId: 'a' }));
    await journal.append(entry({ eventId: 'b' }));
    expect(journal.stats.commits - before).toBe(2);
  });

  it('resolves an append only once the row is committed and visible to another connection', async () => {
    const r = reader();
    const count = () => (r.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n;
    const p = journal.append(entry({ eventId: 'durable-1' }));
    expect(count()).toBe(0);
    const res = await p;
    expect(count()).toBe(1);
    expect(r.prepare('SELECT device_id, event_id, type FROM journal WHERE seq = ?').get(res.seq)).toEqual({
      device_id: 'h1-sos',
      event_id: 'durable-1',
      type: 'sos.pressed',
    });
  });

  it('drops a repeated event id of the same device, in the same batch or a later one, but not of another device', async () => {
    const [a, b] = await Promise.all([
      journal.append(entry({ eventId: 'p1' })),
      journal.append(entry({ eventId: 'p1' })),
    ]);
    expect(a?.duplicate).toBe(false);
    expect(b?.duplicate).toBe(true);
    const later = await journal.append(entry({ eventId: 'p1', receivedAt: T0 + 60_000 }));
    expect(later.duplicate).toBe(true);
    const other = await journal.append(entry({ eventId: 'p1', deviceId: 'h2-sos', homeId: 'h2' }));
    expect(other.duplicate).toBe(false);
    expect(
      journal.readAfter(0, 100).map(({ entry: e }) => (e.kind === 'device' ? [e.deviceId, e.eventId] : [])),
    ).toEqual([
      ['h1-sos', 'p1'],
      ['h2-sos', 'p1'],
    ]);
    expect(journal.stats.duplicates).toBe(2);
  });

  it('recognises a DUP redelivery without an event id by device, MQTT message id and payload', async () => {
    const first = await journal.append(entry({ mqttMid: 7, dup: false }));
    const redelivered = await journal.append(entry({ mqttMid: 7, dup: true, receivedAt: T0 + 2000 }));
    expect(redelivered).toEqual({ seq: first.seq, duplicate: true });
    // without the DUP flag a reused message id is a new message (ids are recycled after the PUBACK)
    const reused = await journal.append(entry({ mqttMid: 7, dup: false, receivedAt: T0 + 3000 }));
    expect(reused.duplicate).toBe(false);
    // DUP with another payload, or from another device, or with another mid, is not a redelivery of it
    const otherPayload = await journal.append(
      entry({ type: 'heartbeat', mqttMid: 7, dup: true, receivedAt: T0 + 4000 }),
    );
    expect(otherPayload.duplicate).toBe(false);
    const otherDevice = await journal.append(
      entry({ deviceId: 'h2-sos', homeId: 'h2', mqttMid: 7, dup: true }),
    );
    expect(otherDevice.duplicate).toBe(false);
    const otherMid = await journal.append(entry({ mqttMid: 8, dup: true }));
    expect(otherMid.duplicate).toBe(false);
    expect(journal.readAfter(0, 100)).toHaveLength(5);
  });

  it('detects a DUP redelivery that arrives in the same batch as the original', async () => {
    const [a, b] = await Promise.all([
      journal.append(entry({ mqttMid: 9, dup: false })),
      journal.append(entry({ mqttMid: 9, dup: true })),
    ]);
    expect(a?.duplicate).toBe(false);
    expect(b?.duplicate).toBe(true);
  });

  it('commits without waiting for the disk, tells the processor at once, and resolves (PUBACK) only after the WAL is synced off the loop', async () => {
    let told = 0;
    journal.onCommit(() => told++);
    let resolved = false;
    const pending = journal.append(entry({ eventId: 'synced' })).then((r) => {
      resolved = true;
      return r;
    });
    await new Promise((r) => setImmediate(r)); // the group commit ran in this turn
    expect(journal.lastCommit).toBe(1);
    expect(journal.durableCommit).toBe(0); // the fdatasync has not come back yet
    expect(told).toBe(1); // the alert can reach the duty screen already
    expect(resolved).toBe(false);
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL again for every other transaction
    expect((await pending).duplicate).toBe(false);
    expect(journal.durableCommit).toBe(1);
    expect(reader().prepare("SELECT count(*) AS n FROM journal WHERE event_id = 'synced'").get()).toEqual({
      n: 1,
    });
  });

  describe('heartbeats (kept out of the per-device indexes)', () => {
    const hb = (over: Partial<JournalEntry> = {}) =>
      entry({ type: 'heartbeat', payload: '{"type":"heartbeat","battery":80}', ...over });
    const indexedRows = () =>
      (reader().prepare('SELECT count(*) AS n FROM journal WHERE indexed = 1').get() as { n: number }).n;

    it('drops a repeated heartbeat id, in the same batch or a later one, and keeps distinct ones', async () => {
      const [a, b] = await Promise.all([
        journal.append(hb({ eventId: 'hb1' })),
        journal.append(hb({ eventId: 'hb1' })),
      ]);
      expect([a?.duplicate, b?.duplicate]).toEqual([false, true]);
      expect((await journal.append(hb({ eventId: 'hb1', receivedAt: T0 + 1000 }))).duplicate).toBe(true);
      expect((await journal.append(hb({ eventId: 'hb2', receivedAt: T0 + 2000 }))).duplicate).toBe(false);
      expect((await journal.append(hb({ eventId: 'hb1', deviceId: 'h2-sos', homeId: 'h2' }))).duplicate).toBe(
        false,
      );
      expect(journal.readAfter(0, 100)).toHaveLength(3);
    });

    it('recognises a DUP-flagged heartbeat resend without an id by packet id and payload only', async () => {
      await journal.append(hb({ mqttMid: 5 }));
      expect((await journal.append(hb({ mqttMid: 5, dup: true, receivedAt: T0 + 1000 }))).duplicate).toBe(
        true,
      );
      // packet ids are reused after the PUBACK: without DUP it is a new heartbeat
      expect((await journal.append(hb({ mqttMid: 5, receivedAt: T0 + 2000 }))).duplicate).toBe(false);
      const other = hb({
        mqttMid: 5,
        dup: true,
        receivedAt: T0 + 3000,
        payload: '{"type":"heartbeat","battery":79}',
      });
      expect((await journal.append(other)).duplicate).toBe(false);
    });

    it('indexes one heartbeat per device per 10 minutes and every other event, and device history reads them', async () => {
      for (let i = 0; i < 30; i++)
        await journal.append(hb({ eventId: `hb${i}`, receivedAt: T0 + i * 60_000 }));
      await journal.append(entry({ eventId: 'door', type: 'door.opened', receivedAt: T0 + 90_000 }));
      expect(journal.readAfter(0, 100)).toHaveLength(31); // every row is in the journal
      expect(indexedRows()).toBe(4); // heartbeats at 0, 10 and 20 min, and the door event
      const history = journal.deviceEvents('h1-sos', undefined, undefined, 100);
      expect(history.map((r) => [r.type, r.received_at - T0])).toEqual([
        ['heartbeat', 20 * 60_000],
        ['heartbeat', 10 * 60_000],
        ['door.opened', 90_000],
        ['heartbeat', 0],
      ]);
      const plan = reader()
        .prepare(
          'EXPLAIN QUERY PLAN SELECT seq FROM journal WHERE device_id = ? AND received_at >= ? AND received_at < ? AND indexed = 1 ORDER BY received_at DESC, seq DESC LIMIT 5',
        )
        .all('h1-sos', 0, 1) as { detail: string }[];
      expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX journal_device_time/);
    });

    it('accepts a heartbeat again after a failed commit (nothing of that batch was stored)', async () => {
      await journal.append(hb({ eventId: 'seen' }));
      db.exec(
        "CREATE TRIGGER fail BEFORE INSERT ON journal WHEN NEW.event_id = 'boom' BEGIN SELECT RAISE(ABORT, 'disk full'); END",
      );
      const lost = journal.append(hb({ eventId: 'retry-me', receivedAt: T0 + 1000 }));
      const boom = journal.append(entry({ eventId: 'boom', receivedAt: T0 + 1000 }));
      await expect(lost).rejects.toThrow(/disk full/);
      await expect(boom).rejects.toThrow(/disk full/);
      db.exec('DROP TRIGGER fail');
      expect((await journal.append(hb({ eventId: 'retry-me', receivedAt: T0 + 2000 }))).duplicate).toBe(
        false,
      );
    });
  });

  it('does not drop a DUP publish that only matches an old message whose id the device has long since reused', async () => {
    // A button that restarts its MQTT message ids at every boot sends {"type":"sos.pressed"} with mid 2
    // on Monday (acknowledged), then more messages. On Thursday a press with mid 2 is sent, the link
    // drops before it reaches the hub, and the device resends it with DUP set. That press was never
    // stored: dropping it as a "redelivery" of Monday's row loses an SOS the hub then PUBACKs.
    await journal.append(entry({ mqttMid: 2, dup: false, receivedAt: T0 }));
    for (let mid = 3; mid < 10; mid++) {
      await journal.append(
        entry({ type: 'heartbeat', mqttMid: mid, dup: false, receivedAt: T0 + mid * 60_000 }),
      );
    }
    const thursday = await journal.append(entry({ mqttMid: 2, dup: true, receivedAt: T0 + 3 * DAY }));
    expect(thursday.duplicate).toBe(false);
  });

  it('reads rows after a seq in seq order, bounded by the limit', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        journal.append(
          entry({ eventId: `r${i}`, type: i % 2 ? 'heartbeat' : 'door.opened', receivedAt: T0 + (30 - i) }),
        ),
      ),
    );
    const seqs = results.map((r) => r.seq);
    const all = journal.readAfter(0, 1000);
    expect(all.map((r) => r.position)).toEqual(seqs);
    expect(all.map((r) => (r.entry.kind === 'device' ? r.entry.eventId : undefined))).toEqual(
      Array.from({ length: 30 }, (_, i) => `r${i}`),
    );
    const page = journal.readAfter(seqs[9] as number, 5);
    expect(page.map((r) => r.position)).toEqual(seqs.slice(10, 15));
    expect(journal.readAfter(seqs.at(-1) as number, 10)).toEqual([]);
    expect(all[0]?.entry).toMatchObject({
      kind: 'device',
      deviceId: 'h1-sos',
      homeId: 'h1',
      type: 'door.opened',
      payload: '{"type":"door.opened"}',
    });
  });

  it('tells listeners after a commit that added rows, and not after one that added only duplicates', async () => {
    let calls = 0;
    journal.onCommit(() => {
      calls++;
    });
    await Promise.all([journal.append(entry({ eventId: 'l1' })), journal.append(entry({ eventId: 'l2' }))]);
    expect(calls).toBe(1);
    await journal.append(entry({ eventId: 'l1' }));
    expect(calls).toBe(1);
  });

  it('stores dead letters with the batch, and refuses appends once closed', async () => {
    await journal.deadLetter({
      receivedAt: T0,
      clientId: 'h1-sos',
      topic: 'carehub/v1/devices/h1-sos/events',
      reason: 'not_json',
      detail: 'x',
      payload: Buffer.from([0xff, 0x00]),
    });
    const row = reader().prepare('SELECT client_id, reason, payload FROM dead_letter').get() as {
      client_id: string;
      reason: string;
      payload: Buffer;
    };
    expect(row.client_id).toBe('h1-sos');
    expect(row.reason).toBe('not_json');
    expect(Buffer.compare(row.payload, Buffer.from([0xff, 0x00]))).toBe(0);
    expect(journal.lastSeq()).toBe(0); // a dead letter is not a journal row

    const pending = journal.append(entry({ eventId: 'before-close' }));
    journal.close();
    await expect(pending).resolves.toMatchObject({ duplicate: false });
    await expect(journal.append(entry({ eventId: 'after-close' }))).rejects.toThrow(/closed/);
  });
});
