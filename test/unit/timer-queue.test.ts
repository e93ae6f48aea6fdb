import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../hub/src/clock/clock.js';
import { type QueuedTimer, TimerQueue } from '../../hub/src/clock/timer-queue.js';

type Op = { kind: 'add'; due: number } | { kind: 'cancel'; pick: number } | { kind: 'take' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('add' as const), due: fc.integer({ min: 0, max: 20 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('take' as const) }) },
);

describe('TimerQueue', () => {
  it('always gives the timer due first (ties in set order), whatever is added and cancelled', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const queue = new TimerQueue();
        const all: QueuedTimer[] = [];
        // The model: every timer still waiting, in set order.
        let waiting: QueuedTimer[] = [];
        const first = () =>
          waiting.reduce<QueuedTimer | undefined>((a, t) => (!a || t.due < a.due ? t : a), undefined);
        for (const o of ops) {
          if (o.kind === 'add') {
            const t = queue.add(o.due, () => {});
            all.push(t);
            waiting.push(t);
          } else if (o.kind === 'cancel' && all.length > 0) {
            const t = all[o.pick % all.length] as QueuedTimer;
            t.cancel();
            t.cancel();
            waiting = waiting.filter((w) => w !== t);
          } else if (o.kind === 'take') {
            const expected = first();
            expect(queue.peek()).toBe(expected);
            if (expected) expect(queue.remove(expected)).toBe(true);
            waiting = waiting.filter((w) => w !== expected);
          }
          expect(queue.size).toBe(waiting.length);
          expect(queue.peek()).toBe(first());
        }
      }),
    );
  });

  it('says false when a timer is taken off twice', () => {
    const queue = new TimerQueue();
    const t = queue.add(1, () => {});
    expect(queue.remove(t)).toBe(true);
    expect(queue.remove(t)).toBe(false);
    expect(queue.size).toBe(0);
  });
});

describe('SystemClock (one platform timer for all)', () => {
  it('fires timers in due order whatever the order they were set in, and never a cancelled one', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    const base = Date.now();
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    clock.at(base + 60, () => {
      fired.push('last');
      done();
    });
    clock.at(base + 20, () => fired.push('b'));
    const first = clock.at(base + 5, () => fired.push('cancelled'));
    clock.at(base + 10, () => fired.push('a'));
    clock.at(base + 40, () => fired.push('c'));
    first.cancel();
    await finished;
    expect(fired).toEqual(['a', 'b', 'c', 'last']);
  });

  it('runs a timer set for a time that has passed on a later turn, after the timers already due', async () => {
    const clock = new SystemClock();
    const fired: string[] = [];
    const due = Date.now() + 10;
    await new Promise<void>((resolve) => {
      clock.at(due, () => {
        fired.push('a');
        clock.at(Date.now() - 1000, () => {
          fired.push('set by a');
          resolve();
        });
        fired.push('a returned');
      });
      clock.at(due, () => fired.push('b'));
    });
    expect(fired).toEqual(['a', 'a returned', 'b', 'set by a']);
  });

  it('does not keep the process alive', () => {
    const clock = join(import.meta.dirname, '..', '..', 'hub', 'src', 'clock', 'clock.ts');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { SystemClock } from ${JSON.stringify(clock)}; new SystemClock().at(Date.now() + 600000, () => {});`,
      ],
      { timeout: 20_000 },
    );
    expect(run.status).toBe(0);
  });
});
