import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db } from './sqlite-db.js';

/**
 * What the checkpointer needs from the journal: a moment with no commits. `hold` stops scheduled
 * commits until `release` (appends wait; the event loop does not); a life-safety event still
 * commits during a hold (Journal.hold).
 */
export interface CommitGate {
  hold(): void;
  release(): void;
}

export interface CheckpointOptions {
  /** The WAL file is kept under this size (`store.walLimitMB`). */
  walLimitBytes?: number;
  /** PASSIVE checkpoint at least this often. */
  intervalMs?: number;
  gate?: CommitGate | undefined;
  metrics?: Metrics | undefined;
}

/** A hold the worker has not answered within this long is given up (the checkpoint goes on, passive). */
const HOLD_MS = 50;
/** Past half the limit: the journal waits longer for the checkpoint (ordinary traffic only). */
const STRICT_HOLD_MS = 500;
/** Between two attempts to restart the WAL that were spoiled by other writes. */
const RETRY_MS = 500;

/**
 * WAL checkpoints on a worker thread, and a WAL that stays small.
 *
 * SQLite's automatic checkpoint runs inside whichever commit pushes the WAL past 1000 pages: on the
 * event loop, copying pages into the database file and fsyncing it, which an SOS then waits behind.
 * Here the main connection never checkpoints; a second connection on a worker thread runs PASSIVE
 * checkpoints (they never block writers or readers), with `synchronous=FULL` (WAL synced before
 * pages are copied, the database after).
 *
 * A PASSIVE checkpoint alone never lets the WAL shrink under steady load: SQLite writes the WAL
 * from its beginning again only when a write transaction starts while every frame is already in
 * the database, and with commits every few milliseconds some always arrive during the checkpoint
 * (checkpoint starvation: 10 GB of WAL in 20 minutes at 1 800 messages/s). So when the WAL passes a
 * quarter of the limit, the worker asks for a quiet moment: the journal holds its commits (the
 * appends wait; nothing blocks), the worker copies the few frames written since its last pass, and
 * the journal's next commit restarts the WAL at its beginning; `journal_size_limit` then cuts the
 * file back. A hold lasts a few milliseconds and at most HOLD_MS; an SOS or smoke alarm commits
 * through it (that attempt is then retried). Other writers (write-behind state, staff actions) can
 * spoil an attempt too; it is retried after RETRY_MS, and past half the limit the hold lasts up to
 * STRICT_HOLD_MS, so the checkpoint outruns any rate of ordinary traffic. No lock of the main
 * connection ever waits for the worker: it never takes the write lock.
 *
 * If the worker fails, the main connection checkpoints automatically again, as before.
 */
export class Checkpointer {
  #worker: Worker | undefined;
  #stopping = false;
  #held = false;
  #heldAt = 0;
  #holdTimer: NodeJS.Timeout | undefined;
  readonly #walLimit: number;
  readonly #intervalMs: number;
  readonly #gate: CommitGate | undefined;
  readonly #metrics: Metrics | undefined;
  stats = { checkpoints: 0, lastPages: 0, resets: 0, holds: 0, walBytes: 0 };

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    options: CheckpointOptions = {},
  ) {
    this.#walLimit = options.walLimitBytes ?? 64 * 2 ** 20;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#gate = options.gate;
    this.#metrics = options.metrics;
  }

  start(): void {
    if (this.db.memory) return;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: this.db.name,
        intervalMs: this.#intervalMs,
        resetAt: Math.floor(this.#walLimit / 4),
        strictAt: Math.floor(this.#walLimit / 2),
        retryMs: RETRY_MS,
        // Without a gate (tests of the worker alone) a quiet moment is never asked for.
        gated: this.#gate !== undefined,
      },
    });
    worker.unref();
    worker.on('message', (m: WorkerMessage) => this.#onMessage(worker, m));
    worker.on('error', (err) => this.#fallBack(err));
    worker.on('exit', (code) => {
      if (!this.#stopping) this.#fallBack(new Error(`checkpoint worker exited with ${code}`));
    });
    this.#worker = worker;
    this.db.pragma('wal_autocheckpoint = 0');
    // After the WAL restarts, the first commit cuts the file back to this (SQLite keeps it otherwise).
    this.db.pragma(`journal_size_limit = ${Math.floor(this.#walLimit / 8)}`);
  }

  /** The worker closes its connection and exits (terminated if it does not within a second). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#release();
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => void worker.terminate(), 1000);
    await exited;
    clearTimeout(timer);
  }

  #onMessage(worker: Worker, m: WorkerMessage): void {
    if (m.type === 'checkpoint') {
      this.stats.checkpoints++;
      this.stats.lastPages = m.pages;
      this.stats.walBytes = m.walBytes;
      this.#metrics?.walBytes.set(m.walBytes);
      if (m.resets > 0) {
        this.stats.resets += m.resets;
        this.#metrics?.walResets.inc(m.resets);
      }
    } else if (m.type === 'quiet?') {
      if (this.#worker !== worker || !this.#gate) return;
      this.#held = true;
      this.#heldAt = performance.now();
      this.stats.holds++;
      this.#gate.hold();
      this.#holdTimer = setTimeout(() => this.#release(), m.strict ? STRICT_HOLD_MS : HOLD_MS);
      worker.postMessage({ type: 'quiet' });
    } else if (m.type === 'done') {
      this.#release();
    }
  }

  #release(): void {
    if (!this.#held) return;
    this.#held = false;
    clearTimeout(this.#holdTimer);
    this.#metrics?.checkpointPause.observe((performance.now() - this.#heldAt) / 1000);
    this.#gate?.release();
  }

  #fallBack(err: Error): void {
    this.#release();
    if (this.#stopping || !this.#worker) return;
    this.#worker = undefined;
    this.log.error({ err }, 'WAL checkpoint worker failed; checkpointing on the main thread again');
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }
}

type WorkerMessage =
  | { type: 'checkpoint'; pages: number; walBytes: number; resets: number }
  | { type: 'quiet?'; strict: boolean }
  | { type: 'done' };

/**
 * CommonJS, run with `eval: true` (the same text from the TypeScript sources and from dist/).
 * Every 100 ms it looks at the WAL file's size; a PASSIVE checkpoint every `intervalMs`, or at once
 * when the WAL is past `resetAt`, followed by a request for a quiet moment; in it, one more PASSIVE
 * checkpoint of what was written since.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, openSync, readSync, statSync } = require('node:fs');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
const walFile = workerData.file + '-wal';
const header = Buffer.alloc(16);
let lastPassive = 0;
let lastAttempt = 0;
let attemptSeq = -2;
let lastSeq = -1;
let resets = 0;
let asking = false;
const walBytes = () => { try { return statSync(walFile).size; } catch { return 0; } };
// The WAL header's checkpoint sequence number goes up by one each time the WAL restarts.
function countResets() {
  let fd;
  try {
    fd = openSync(walFile, 'r');
    if (readSync(fd, header, 0, 16, 0) < 16) return;
  } catch { return; } finally { if (fd !== undefined) closeSync(fd); }
  const seq = header.readUInt32BE(12);
  if (lastSeq >= 0 && seq !== lastSeq) resets += (seq - lastSeq) >>> 0;
  lastSeq = seq;
}
function passive() {
  const [r] = db.pragma('wal_checkpoint(PASSIVE)');
  lastPassive = Date.now();
  parentPort.postMessage({ type: 'checkpoint', pages: r ? r.checkpointed : 0, walBytes: walBytes(), resets });
  resets = 0;
}
const timer = setInterval(() => {
  countResets();
  if (asking) return;
  const now = Date.now();
  const size = walBytes();
  if (workerData.gated && size > workerData.resetAt) {
    const strict = size > workerData.strictAt;
    // The last attempt was spoiled (no restart since): wait a little before holding commits again.
    const spoiled = attemptSeq === lastSeq;
    if (strict || !spoiled || now - lastAttempt >= workerData.retryMs) {
      passive();
      asking = true;
      lastAttempt = now;
      attemptSeq = lastSeq;
      parentPort.postMessage({ type: 'quiet?', strict });
      return;
    }
  }
  if (now - lastPassive >= workerData.intervalMs) passive();
}, Math.min(100, workerData.intervalMs));
parentPort.on('message', (m) => {
  if (m.type === 'quiet') {
    passive();
    asking = false;
    parentPort.postMessage({ type: 'done' });
    return;
  }
  if (m.type !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;
