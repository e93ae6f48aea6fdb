import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { UsageError } from './target.js';

/** What the hub keeps in its data dir: the database (with SQLite's side files) and ports.json. */
const HUB_FILES = ['hub.db', 'hub.db-wal', 'hub.db-shm', 'hub.db-journal', 'ports.json'];
/** Written by the demo into a data dir it owns, so a fresh start never erases a database it did not make. */
export const DEMO_MARKER = 'demo-data.txt';

export interface FreshStart {
  /** Data of an earlier run was erased. */
  erased: boolean;
}

/**
 * Empty the demo's data dir before a run (no alerts, journal or sessions of yesterday's run). Only
 * the hub's own files go, and only from the demo configuration's data dir or one the demo marked as
 * its own: CAREHUB_DATA_DIR pointing at a real hub's data is refused, never emptied.
 */
export async function freshDemoData(dataDir: string, fromEnvironment: boolean): Promise<FreshStart> {
  const dir = resolve(dataDir);
  const hasDb = existsSync(join(dir, 'hub.db'));
  if (hasDb && fromEnvironment && !existsSync(join(dir, DEMO_MARKER))) {
    throw new UsageError(
      `${dataDir} holds a hub database the demo did not make; it is not erased. Use another CAREHUB_DATA_DIR, or keep it: npm start -- --keep`,
    );
  }
  const running = await runningHub(dir);
  if (running !== undefined) {
    throw new UsageError(
      `a hub is already running on ${dataDir} (${running}); stop it first, or give this demo its own CAREHUB_DATA_DIR`,
    );
  }
  let erased = false;
  for (const name of HUB_FILES) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    rmSync(file, { force: true });
    erased = true;
  }
  return { erased };
}

/** Mark the data dir as the demo's (after the hub has made it). */
export function markDemoData(dataDir: string): void {
  const file = join(dataDir, DEMO_MARKER);
  if (!existsSync(file))
    writeFileSync(file, 'Made by the CareHub demo (npm start), which empties this folder at each start.\n');
}

/** The HTTP address of a hub whose ports.json is in `dir` and that still answers, if any. */
async function runningHub(dir: string): Promise<string | undefined> {
  let port: unknown;
  try {
    port = (JSON.parse(readFileSync(join(dir, 'ports.json'), 'utf8')) as { http?: unknown }).http;
  } catch {
    return undefined; // no ports.json (or a torn one): no hub is running there
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  const answers = await new Promise<boolean>((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(false));
  });
  return answers ? `http://localhost:${port}/` : undefined;
}
