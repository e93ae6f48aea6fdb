import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTrimmer } from '../../hub/src/store/retention.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7);

/** Real SQLite file. */
describe('LocalTrimmer', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'carehub-trim-'));
    db = openDatabase(dir);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = (n: number, at: number) =>
    db.transaction(() => {
      const ins = db.prepare(
        `INSERT INTO journal(device_id, home_id, received_at, type, payload, indexed) VALUES ('d', 'h', ?, 'heartbeat', '{}', 0)`,
      );
      for (let i = 0; i < n; i++) ins.run(at);
    })();
  const count = () => (db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n;

  it('deletes at most one chunk a step, oldest first, and says when more may be left', () => {
    rows(5000, NOW - 10 * DAY);
    rows(300, NOW - DAY);
    const t = new LocalTrimmer(db);
    const retention = { journalDays: 7, deadLetterDays: 30 };
    expect(t.step(NOW, retention, 1_000_000, 2000)).toEqual({ journal: 2000, deadLetters: 0, more: true });
    expect(t.step(NOW, retention, 1_000_000, 2000)).toEqual({ journal: 2000, deadLetters: 0, more: true });
    expect(t.step(NOW, retention, 1_000_000, 2000)).toEqual({ journal: 1000, deadLetters: 0, more: false });
    expect(count()).toBe(300); // the recent rows stay
    expect((db.prepare('SELECT min(seq) AS s FROM journal').get() as { s: number }).s).toBe(5001);
  });

  it('reads one chunk of the oldest rows a step and ends when a chunk was not all past the retention', () => {
    rows(10, NOW - 10 * DAY);
    rows(1, NOW - DAY);
    rows(5, NOW - 20 * DAY); // the clock was set back: older than the row before them
    const t = new LocalTrimmer(db);
    const retention = { journalDays: 7, deadLetterDays: 30 };
    // The first 11 rows: 10 deleted, one too recent: the trim ends here...
    expect(t.step(NOW, retention, 1_000_000, 11)).toEqual({ journal: 10, deadLetters: 0, more: false });
    expect(count()).toBe(6);
    // ...and the next one (an hour later) takes the 5 behind the recent row.
    expect(t.step(NOW, retention, 1_000_000, 11).journal).toBe(5);
    expect(count()).toBe(1);
  });

  it('keeps rows the rules have not applied yet (after keepAfterSeq), however old', () => {
    rows(100, NOW - 10 * DAY);
    const t = new LocalTrimmer(db);
    expect(t.step(NOW, { journalDays: 7, deadLetterDays: 30 }, 40, 2000)).toEqual({
      journal: 40,
      deadLetters: 0,
      more: false,
    });
    expect(count()).toBe(60);
  });
});
