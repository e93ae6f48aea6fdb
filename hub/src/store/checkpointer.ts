import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { Db } from './sqlite-db.js';

/**
 * WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever commit
 * pushes the WAL past 1000 pages: on the event loop, copying pages into the database file and
 * fsyncing it, tens of milliseconds every second or so under load, which an SOS then waits behind.
 * Here the main connection never checkpoints, and a second connection on a worker thread runs a
 * PASSIVE checkpoint (it never blocks writers or readers) every `intervalMs`, with
 * `synchronous=FULL` (WAL synced before pages are copied, the database after).
 *
 * If the worker fails, the main connection checkpoints automatically again, as before.
 */
export class Checkpointer {
  #worker: Worker | undefined;
  #stopping = false;
  stats = { checkpoints: 0, lastPages: 0 };

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.db.memory) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: this.db.name,
        intervalMs: this.intervalMs,
      },
    });
    worker.unref();
    worker.on('message', (m: { pages: number }) => {
      this.stats.checkpoints++;
      this.stats.lastPages = m.pages;
    });
    worker.on('error', (err) => this.#fallBack(err));
    worker.on('exit', (code) => {
      if (!this.#stopping) this.#fallBack(new Error(`checkpoint worker exited with ${code}`));
    });
    this.#worker = worker;
    this.db.pragma('wal_autocheckpoint = 0');
  }

  /** The worker closes its connection and exits (terminated if it does not within a second). */
  async stop(): Promise<void> {
    this.#stopping = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), 1000);
    await exited;
    clearTimeout(timer);
  }

  #fallBack(err: Error): void {
    if (this.#stopping || !this.#worker) return;
    this.#worker = undefined;
    this.log.error({ err }, 'WAL checkpoint worker failed; checkpointing on the main thread again');
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }
}

/** CommonJS, run with `eval: true` (the same text from the TypeScript sources and from dist/). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
const timer = setInterval(() => {
  const [r] = db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage({ pages: r ? r.checkpointed : 0 });
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
