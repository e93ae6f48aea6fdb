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

  it('numbers on from the last number across restarts, with no gap: the numbers follow from the log alone', () => {
    const first = new FeedLog(db);
    expect(add(first, 3)).toEqual([1, 2, 3]);
    const second = new FeedLog(db);
    expect(second.canReplayAfter(3)).toBe(true);
    expect(add(second, 2)).toEqual([4, 5]);
    expect(second.canReplayAfter(0)).toBe(true); // from the beginning: nothing was trimmed
    expect(second.after(3, 10).map((e) => e.seq)).toEqual([4, 5]);
    expect(second.canReplayAfter(6)).toBe(false); // ahead of the log
    expect(new FeedLog(db).canReplayAfter(5)).toBe(true);
  });

  it('trims by count, not by number, and the trim mark outlives a restart', () => {
    const log = new FeedLog(db);
    add(log, 10);
    expect(log.trim(7)).toBe(3);
    expect(log.after(0, 100)).toHaveLength(7);
    expect(log.oldestSeq()).toBe(4);
    expect(log.canReplayAfter(2)).toBe(false); // trimmed away
    expect(log.canReplayAfter(3)).toBe(true);
    expect(new FeedLog(db).canReplayAfter(2)).toBe(false);
    // a trim never reuses numbers
    expect(add(log, 1)).toEqual([11]);
  });
});
