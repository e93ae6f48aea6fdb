import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from '../../hub/src/auth/admission-queue.js';

/** A task that finishes when the test says so. */
function gate<T>(value: T) {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { task: () => opened.then(() => value), open };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('AdmissionQueue', () => {
  it('runs at most `concurrency` at once, and the waiting ones by priority, then arrival', async () => {
    const q = new AdmissionQueue(1);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate<string>>>();
    const submit = (name: string, priority: number) => {
      const g = gate(name);
      gates.set(name, g);
      return q.run(
        priority,
        () => false,
        () => {
          started.push(name);
          return g.task();
        },
      );
    };
    const results = [
      submit('door-1', 1), // starts at once: the queue was empty
      submit('door-2', 1),
      submit('motion', 1),
      submit('sos', 0),
      submit('smoke', 0),
    ];
    await tick();
    expect(started).toEqual(['door-1']);
    expect(q.waiting).toBe(4);
    for (const name of ['door-1', 'sos', 'smoke', 'door-2', 'motion']) {
      gates.get(name)?.open();
      await tick();
      await tick();
    }
    expect(started).toEqual(['door-1', 'sos', 'smoke', 'door-2', 'motion']);
    expect(await Promise.all(results)).toEqual(['door-1', 'door-2', 'motion', 'sos', 'smoke']);
  });

  it('drops a waiting check whose connection closed meanwhile, without running it', async () => {
    const q = new AdmissionQueue(1);
    const first = gate(true);
    let closed = false;
    let ran = false;
    const a = q.run(1, () => false, first.task);
    const b = q.run(
      0,
      () => closed,
      async () => {
        ran = true;
        return true;
      },
    );
    closed = true; // the device gave up before its turn
    first.open();
    expect(await a).toBe(true);
    expect(await b).toBeUndefined();
    expect(ran).toBe(false);
    expect(q.stats).toEqual({ run: 1, dropped: 1 });
  });

  it('passes a failing task on and goes on with the next', async () => {
    const q = new AdmissionQueue(1);
    const failing = q.run(
      0,
      () => false,
      () => Promise.reject(new Error('scrypt failed')),
    );
    const next = q.run(
      0,
      () => false,
      () => Promise.resolve('ok'),
    );
    await expect(failing).rejects.toThrow('scrypt failed');
    expect(await next).toBe('ok');
  });
});
