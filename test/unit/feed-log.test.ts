import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeedLog } from '../../hub/src/store/feed-log.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';

describe('FeedLog', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carehub-feedlog-'));
    db = openDatabase(dir);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const add = (log: FeedLog, n: number) =>
    Array.from({ length: n }, (_, i) => log.append(i, 'alert', 'h1', { type: 'alert', i }).seq);

  it('skips a block of numbers at every start; resuming from inside it means a snapshot, not a replay', () => {
    const first = new FeedLog(db);
    first.openEpoch(1000);
    expect(add(first, 3)).toEqual([1001, 1002, 1003]);
    // A power cut took entries 1004-1010 that a client had seen; the hub starts again.
    const second = new FeedLog(db);
    second.openEpoch(1000);
    const next = add(second, 2);
    expect(next).toEqual([2004, 2005]); // never 1004 again
    expect(second.canReplayAfter(1003)).toBe(true); // a client that saw only durable entries: exact replay
    expect(second.canReplayAfter(0)).toBe(true); // from the beginning: nothing was trimmed
    expect(second.after(1003, 10).map((e) => e.seq)).toEqual([2004, 2005]);
    expect(second.canReplayAfter(1007)).toBe(false); // it saw entries that are gone: snapshot
    expect(second.canReplayAfter(2004)).toBe(true);
    expect(second.canReplayAfter(2006)).toBe(false); // ahead of the log
    expect(new FeedLog(db).canReplayAfter(2005)).toBe(true);
    const third = new FeedLog(db);
    third.openEpoch(1000);
    expect(third.canReplayAfter(3005)).toBe(true); // what a client is told at hello before any entry
  });

  it('trims by count, not by number, so a gap in the numbers never empties the log', () => {
    const log = new FeedLog(db);
    log.openEpoch(1000);
    add(log, 5);
    log.openEpoch(1000);
    add(log, 5);
    expect(log.trim(7)).toBe(3);
    expect(log.after(0, 100)).toHaveLength(7);
    expect(log.oldestSeq()).toBe(1004);
    expect(log.canReplayAfter(1002)).toBe(false); // trimmed away
    expect(log.canReplayAfter(1003)).toBe(true);
    expect(new FeedLog(db).canReplayAfter(1002)).toBe(false); // the trim mark outlives a restart
  });
});
