import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, HubError } from '../errors.js';
import type { Positioned } from '../model/entries.js';
import { LOG_ERASED_KEY } from './home-erasure.js';
import { entryOf, type JournalRow } from './journal.js';

/** A data dir's log, read only: a replay reads its source with this while the source's hub may run. */
export interface LogReader {
  /** The position of the first entry kept, undefined when the log is empty. */
  first(): number | undefined;
  last(): number;
  read(after: number, limit: number): Positioned[];
  /** The position of the last entry that erased a home's rows from this log, if any did. */
  erasedAt(): number | undefined;
  close(): void;
}

export function openLogReader(dataDir: string): LogReader {
  const file = join(dataDir, 'hub.db');
  if (!existsSync(file)) throw new HubError(ErrorCodes.STORE_UNAVAILABLE, `no hub database in ${dataDir}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const bounds = db.prepare<[], { lo: number | null; hi: number | null }>(
    'SELECT min(seq) AS lo, max(seq) AS hi FROM journal',
  );
  const after = db.prepare<[number, number], JournalRow>(
    'SELECT seq, device_id, home_id, received_at, type, event_id, payload FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  return {
    first: () => bounds.get()?.lo ?? undefined,
    last: () => bounds.get()?.hi ?? 0,
    read: (from, limit) => after.all(from, limit).map((row) => ({ position: row.seq, entry: entryOf(row) })),
    erasedAt: () => {
      const v = (
        db.prepare('SELECT value FROM meta WHERE key = ?').get(LOG_ERASED_KEY) as
          | { value: string }
          | undefined
      )?.value;
      return v === undefined ? undefined : Number(v);
    },
    close: () => db.close(),
  };
}
