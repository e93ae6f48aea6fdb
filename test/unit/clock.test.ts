import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../../hub/src/clock/clock.js';

const T0 = Date.UTC(2026, 10, 26, 1, 30);

describe('ManualClock', () => {
  it('does not move or fire anything until advanced', () => {
    const clock = new ManualClock(T0);
    const fired: string[] = [];
    clock.at(T0 + 1000, () => fired.push('a'));
    expect(clock.now()).toBe(T0);
    expect(fired).toEqual([]);
    expect(clock.pending()).toBe(1);
    expect(clock.advance(999)).toBe(0);
    expect(fired).toEqual([]);
    expect(clock.now()).toBe(T0 + 999);
  });

  it('fires every due timer in time order, whatever the order they were set in, with now() at the due time', () => {
    const clock = new ManualClock(T0);
    const fired: Array<[string, number]> = [];
    const note = (name: string) => () => fired.push([name, clock.now()]);
    clock.at(T0 + 3000, note('c'));
    clock.at(T0 + 1000, note('a'));
    clock.at(T0 + 5000, note('late'));
    clock.at(T0 + 2000, note('b'));
    expect(clock.advance(3000)).toBe(3);
    expect(fired).toEqual([
      ['a', T0 + 1000],
      ['b', T0 + 2000],
      ['c', T0 + 3000],
    ]);
    expect(clock.now()).toBe(T0 + 3000);
    expect(clock.pending()).toBe(1);
    expect(clock.advance(10_000)).toBe(1);
    expect(fired.at(-1)).toEqual(['late', T0 + 5000]);
    expect(clock.now()).toBe(T0 + 13_000);
    expect(clock.pending()).toBe(0);
  });

  it('fires timers due at the same instant in the order they were set', () => {
    const clock = new ManualClock(T0);
    const fired: number[] = [];
    for (let i = 0; i < 20; i++) clock.at(T0 + 500, () => fired.push(i));
    clock.at(T0 + 100, () => fired.push(-1));
    clock.advance(500);
    expect(fired).toEqual([-1, ...Array.from({ length: 20 }, (_, i) => i)]);
  });

  it('runs a timer set in the past on the next advance, at the current time', () => {
    const clock = new ManualClock(T0);
    let at = 0;
    clock.at(T0 - 60_000, () => {
      at = clock.now();
    });
    expect(clock.advance(0)).toBe(1);
    expect(at).toBe(T0);
  });

  it('fires a timer set by a firing timer when it falls inside the same advance, in order', () => {
    const clock = new ManualClock(T0);
    const fired: Array<[string, number]> = [];
    clock.at(T0 + 1000, () => {
      fired.push(['first', clock.now()]);
      clock.at(clock.now() + 500, () => fired.push(['chained', clock.now()]));
      clock.at(clock.now() + 5000, () => fired.push(['outside', clock.now()]));
    });
    clock.at(T0 + 2000, () => fired.push(['second', clock.now()]));
    clock.advance(2000);
    expect(fired).toEqual([
      ['first', T0 + 1000],
      ['chained', T0 + 1500],
      ['second', T0 + 2000],
    ]);
    expect(clock.pending()).toBe(1);
  });

  it('never fires a cancelled timer, also when it is cancelled by an earlier timer in the same advance', () => {
    const clock = new ManualClock(T0);
    const fired: string[] = [];
    const a = clock.at(T0 + 1000, () => fired.push('a'));
    clock.at(T0 + 2000, () => fired.push('b'));
    let c: { cancel(): void } | undefined;
    clock.at(T0 + 2500, () => {
      fired.push('canceller');
      c?.cancel();
    });
    c = clock.at(T0 + 3000, () => fired.push('c'));
    a.cancel();
    expect(clock.pending()).toBe(3);
    expect(clock.advance(10_000)).toBe(2);
    expect(fired).toEqual(['b', 'canceller']);
    expect(clock.pending()).toBe(0);
    // cancelling again, or after it fired, is harmless
    a.cancel();
    c.cancel();
  });

  it('refuses to go backwards or by a non-number', () => {
    const clock = new ManualClock(T0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(clock.now()).toBe(T0);
  });
});

describe('SystemClock', () => {
  it('reads the real time and fires a timer once its time has come; a cancelled one never fires', async () => {
    const clock = new SystemClock();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50);
    let cancelledFired = false;
    clock
      .at(Date.now() + 20, () => {
        cancelledFired = true;
      })
      .cancel();
    const firedAt = await new Promise<number>((resolve) => {
      const due = Date.now() + 30;
      clock.at(due, () => resolve(Date.now() - due));
    });
    expect(firedAt).toBeGreaterThanOrEqual(-1);
    await new Promise((r) => setTimeout(r, 30));
    expect(cancelledFired).toBe(false);
  });
});
