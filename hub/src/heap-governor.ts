import { setFlagsFromString } from 'node:v8';
import type { Logger } from './log.js';
import { nodeFlagGiven } from './node-flags.js';

/**
 * How far V8 may let the old generation grow past what its last full collection kept, while the
 * hub is quiet. V8's own factor follows its GC speed and reaches 4x on a machine with this much
 * memory: with 19 700 devices connected (200 MB live) the heap was allowed to reach ~500 MB after
 * the admission bursts, and nothing collected it during the following minutes of heartbeats
 * (27 KB RSS per device). At 30 % a full collection (concurrent marking, a pause of ~5-15 ms) comes
 * sooner and the process stays near 390 MB (20 KB per device; ~420 MB with the larger young
 * generation of node-flags.ts).
 */
export const TIGHT_HEAP_GROWING_PERCENT = 30;

/**
 * Above this many journal rows per second the hub leaves the heap to V8. Saturated ingest promotes
 * ~35 MB/s of short-lived event objects to the old generation; at 30 % growth that is a full
 * collection every ~1.3 s and measured 20 % more CPU per event. A district's 60 s heartbeats are a
 * few hundred rows per second.
 */
export const BUSY_ROWS_PER_SECOND = 2000;

export type HeapMode = 'tight' | 'v8';

export interface HeapGovernorOptions {
  /** A running count of what the hub accepted (the journal's last sequence number). */
  rowsSoFar: () => number;
  /** Monotonic milliseconds. */
  now: () => number;
  log: Logger;
  busyRowsPerSecond?: number;
  tightPercent?: number;
  intervalMs?: number;
  /** Where the percent goes; 0 gives V8 its own growing factor back. */
  setGrowingPercent?: (percent: number) => void;
}

/**
 * Keeps V8's heap close to its live size while the hub is quiet and lets V8 size it for throughput
 * while rows pour in: every `intervalMs` (a second) it looks at the journal's row rate and sets V8's
 * `--heap-growing-percent`, which V8 reads at each full collection. Busy above `busyRowsPerSecond`,
 * quiet again below half of it, so a rate near the threshold does not flip the mode at every look.
 */
export class HeapGovernor {
  readonly #o: Required<HeapGovernorOptions>;
  #mode: HeapMode | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastRows = 0;
  #lastAt = 0;
  #failed = false;

  constructor(options: HeapGovernorOptions) {
    this.#o = {
      busyRowsPerSecond: BUSY_ROWS_PER_SECOND,
      tightPercent: TIGHT_HEAP_GROWING_PERCENT,
      intervalMs: 1000,
      setGrowingPercent: (percent) => setFlagsFromString(`--heap-growing-percent=${percent}`),
      ...options,
    };
    if (!Number.isInteger(this.#o.tightPercent) || this.#o.tightPercent < 1)
      throw new RangeError(`tightPercent must be a positive integer, got ${this.#o.tightPercent}`);
  }

  get mode(): HeapMode | undefined {
    return this.#mode;
  }

  /** Starts tight: the hub has just started and collected what loading the site left behind. */
  start(): void {
    this.#lastRows = this.#o.rowsSoFar();
    this.#lastAt = this.#o.now();
    this.#apply('tight', 0);
    this.#timer = setInterval(() => this.check(), this.#o.intervalMs).unref();
  }

  /** One look at the row rate since the previous one (the timer's job; called directly by tests). */
  check(): HeapMode | undefined {
    let rows: number;
    try {
      rows = this.#o.rowsSoFar();
    } catch (err) {
      // The journal is closing or failing: keep the mode, say so once.
      if (!this.#failed)
        this.#o.log.warn({ err }, 'heap governor could not read the journal; heap mode kept');
      this.#failed = true;
      return this.#mode;
    }
    this.#failed = false;
    const at = this.#o.now();
    const seconds = (at - this.#lastAt) / 1000;
    if (seconds <= 0) return this.#mode;
    const perSecond = (rows - this.#lastRows) / seconds;
    this.#lastRows = rows;
    this.#lastAt = at;
    const busy = this.#o.busyRowsPerSecond;
    if (this.#mode === 'tight' && perSecond > busy) this.#apply('v8', perSecond);
    else if (this.#mode === 'v8' && perSecond < busy / 2) this.#apply('tight', perSecond);
    return this.#mode;
  }

  /** Stops looking and gives V8 its own growing factor back. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#mode === 'tight') this.#o.setGrowingPercent(0);
    this.#mode = undefined;
  }

  #apply(mode: HeapMode, rowsPerSecond: number): void {
    this.#o.setGrowingPercent(mode === 'tight' ? this.#o.tightPercent : 0);
    this.#mode = mode;
    this.#o.log.debug({ mode, rowsPerSecond: Math.round(rowsPerSecond) }, 'heap mode');
  }
}

/**
 * Whether the operator started node with `--heap-growing-percent=N`; theirs then wins. (Node does
 * not accept the flag in NODE_OPTIONS, so the command line is the only place for it.)
 */
export function operatorSetHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  return nodeFlagGiven('--heap-growing-percent', execArgv);
}
