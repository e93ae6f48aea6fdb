import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, HubError } from '../errors.js';

export interface DataDirLock {
  /** Give the data dir up (at stop). */
  release(): void;
}

const LOCK_FILE = 'hub.lock';
const PID_FILE = 'hub.pid';

/**
 * One hub per data dir. The lock is an exclusive SQLite (POSIX fcntl) lock on `hub.lock`, held for
 * the life of the process: the kernel drops it when the process dies, even by `kill -9`, so there is
 * never a stale lock to clean up and a reused pid cannot fake one. `hub.pid` only names the holder
 * for the error message.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    const holder = readHolder(dataDir);
    throw new HubError(
      ErrorCodes.DATA_DIR_LOCKED,
      `the data dir ${dataDir} is in use by another hub${holder ? ` (pid ${holder})` : ''}: stop it, or give this hub its own CAREHUB_DATA_DIR`,
      { cause: err, details: { pid: holder } },
    );
  }
  const pidFile = join(dataDir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      if (readHolder(dataDir) === process.pid) rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function readHolder(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, PID_FILE), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
