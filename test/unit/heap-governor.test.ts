import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeapGovernor, operatorSetHeapGrowth } from '../../hub/src/heap-governor.js';
import { createLogger } from '../../hub/src/log.js';

function harness(opts: { busyRowsPerSecond?: number } = {}) {
  const set: number[] = [];
  const warnings: string[] = [];
  const state = { rows: 0, at: 0, fail: false };
  const log = createLogger('warn', {
    write: (line: string) => {
      warnings.push(JSON.parse(line).msg as string);
    },
  });
  const governor = new HeapGovernor({
    rowsSoFar: () => {
      if (state.fail) throw new Error('database is closed');
      return state.rows;
    },
    now: () => state.at,
    log,
    setGrowingPercent: (p) => set.push(p),
    ...opts,
  });
  /** `rows` more rows over `seconds`, then one look. */
  const later = (seconds: number, rows: number) => {
    state.at += seconds * 1000;
    state.rows += rows;
    return governor.check();
  };
  return { governor, set, warnings, state, later };
}

describe('HeapGovernor', () => {
  it('starts tight, gives the heap to V8 while rows pour in, and takes it back when they stop', () => {
    const { governor, set, later } = harness({ busyRowsPerSecond: 2000 });
    governor.start();
    expect(governor.mode).toBe('tight');
    expect(set).toEqual([30]);
    expect(later(5, 5 * 300)).toBe('tight'); // a district's heartbeats
    expect(later(5, 5 * 20_000)).toBe('v8'); // saturated ingest
    expect(set).toEqual([30, 0]);
    expect(later(5, 5 * 1500)).toBe('v8'); // below the threshold but above half of it: no flip
    expect(later(5, 5 * 900)).toBe('tight');
    expect(set).toEqual([30, 0, 30]);
    governor.stop();
    expect(set).toEqual([30, 0, 30, 0]);
    expect(governor.mode).toBeUndefined();
  });

  it('keeps its mode when the journal cannot be read, and says so once', () => {
    const { governor, set, warnings, state, later } = harness();
    governor.start();
    state.fail = true;
    expect(later(5, 0)).toBe('tight');
    expect(later(5, 0)).toBe('tight');
    expect(warnings).toEqual(['heap governor could not read the journal; heap mode kept']);
    state.fail = false;
    expect(later(5, 5 * 50_000)).toBe('v8');
    expect(set).toEqual([30, 0]);
    governor.stop();
  });

  it('refuses a percent that is not a positive integer', () => {
    const log = createLogger('silent');
    for (const tightPercent of [0, -5, 1.5])
      expect(() => new HeapGovernor({ rowsSoFar: () => 0, now: () => 0, log, tightPercent })).toThrow(
        /positive integer/,
      );
  });
});

describe('operatorSetHeapGrowth', () => {
  it("sees the operator's V8 flag on node's command line, in either spelling", () => {
    expect(operatorSetHeapGrowth(['--heap-growing-percent=50'])).toBe(true);
    expect(operatorSetHeapGrowth(['--max-old-space-size=2048', '--heap_growing_percent=20'])).toBe(true);
    expect(operatorSetHeapGrowth(['--expose-gc', '--max-old-space-size=2048'])).toBe(false);
    expect(operatorSetHeapGrowth([])).toBe(false);
  });
});

/**
 * The real V8, in a child process: per-device records kept, and garbage that lives long enough to
 * be promoted before it dies (as state replaced on every device message does). With V8's own
 * growing factor the old space grows to 3-4x what is live before a full collection; in tight mode
 * it must stay within 2x. The child also survives the full collections that follow the runtime
 * flag change (a runtime-set --single-threaded-gc, for one, crashes V8 at that point).
 */
describe('tight mode in V8', () => {
  it('keeps the old space within twice what is live', () => {
    const governor = join(import.meta.dirname, '..', '..', 'hub', 'src', 'heap-governor.ts');
    const script = `
      import { getHeapSpaceStatistics } from 'node:v8';
      import { HeapGovernor } from ${JSON.stringify(governor)};
      const log = { debug() {}, warn() {} };
      const g = new HeapGovernor({ rowsSoFar: () => 0, now: () => 0, log, intervalMs: 60000 });
      g.start();
      const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
      const kept = [];
      for (let i = 0; i < 500000; i++) kept.push({ id: 'device-' + i, n: i, seen: [i, i + 1, i + 2] });
      const ring = new Array(100000);
      let peak = 0;
      for (let i = 0; i < 3000000; i++) {
        ring[i % ring.length] = { junk: [i, i, i, i], s: 'garbage-' + i };
        if (i % 5000 === 0) peak = Math.max(peak, old().space_size);
      }
      g.stop();
      globalThis.gc();
      process.stdout.write(JSON.stringify({ peak, live: old().space_used_size, kept: kept.length }));
    `;
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 60_000, encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const { peak, live, kept } = JSON.parse(run.stdout) as { peak: number; live: number; kept: number };
    expect(kept).toBe(500_000);
    expect(peak / live).toBeLessThan(2);
  });
});
