import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import type { LogEntry } from '../../hub/src/model/entries.js';
import { Journal } from '../../hub/src/store/journal.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { UnitOfWork } from '../../hub/src/store/unit-of-work.js';
import { describeLogContract, type LogUnderTest } from '../helpers/log-contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The SQLite journal: device events through the group commit, every other entry appended in a unit of work. */
function sqliteLog(dir: string): LogUnderTest {
  const db: Db = openDatabase(dir);
  const uow = new UnitOfWork(db);
  const journal = new Journal(db, uow, createLogger('silent'));
  return {
    async append(entry: LogEntry) {
      if (entry.kind !== 'device') {
        const position = uow.run(() => journal.appendNow(entry));
        return { position, duplicate: false };
      }
      const r = await journal.append({
        deviceId: entry.deviceId,
        homeId: entry.homeId,
        receivedAt: entry.at,
        type: entry.type,
        eventId: entry.eventId,
        payload: entry.payload,
      });
      return { position: r.seq, duplicate: r.duplicate };
    },
    read: async (after, limit) => journal.readAfter(after, limit),
    last: async () => journal.lastSeq(),
    async reopen() {
      journal.close();
      db.close();
      return sqliteLog(dir);
    },
    async close() {
      journal.close();
      db.close();
    },
  };
}

describeLogContract('SQLite journal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carehub-log-'));
  dirs.push(dir);
  return sqliteLog(dir);
});
