/**
 * A timer waiting in a TimerQueue; it is also the handle given back to whoever set it. One small
 * object per timer, no closures: a site arms ~6 timers per home, so this is per-home memory.
 */
export class QueuedTimer {
  /** Position in the queue's heap; -1 once it has been taken off (fired or cancelled). */
  index = -1;

  constructor(
    private readonly queue: TimerQueue,
    /** When it falls due, on the owning clock's time line. */
    readonly due: number,
    /** Set order, for ties. */
    readonly order: number,
    readonly fn: () => void,
  ) {}

  cancel(): void {
    this.queue.remove(this);
  }
}

/**
 * Timers in due order (ties in the order they were set): a binary min-heap where every timer knows
 * its position, so cancelling one removes it at once instead of leaving it until it falls due.
 */
export class TimerQueue {
  readonly #heap: QueuedTimer[] = [];
  #order = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** How many timers have ever been set: timers set from now on have an `order` of at least this. */
  get nextOrder(): number {
    return this.#order;
  }

  /** The timer due first, left in the queue. */
  peek(): QueuedTimer | undefined {
    return this.#heap[0];
  }

  add(due: number, fn: () => void): QueuedTimer {
    const timer = new QueuedTimer(this, due, this.#order++, fn);
    timer.index = this.#heap.length;
    this.#heap.push(timer);
    this.#up(timer.index);
    return timer;
  }

  /** Take a timer off the queue; false when it was already taken off. */
  remove(timer: QueuedTimer): boolean {
    const i = timer.index;
    if (i < 0 || this.#heap[i] !== timer) return false;
    timer.index = -1;
    const last = this.#heap.pop() as QueuedTimer;
    if (last !== timer) {
      this.#heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
    return true;
  }

  #up(i: number): void {
    const heap = this.#heap;
    const timer = heap[i] as QueuedTimer;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as QueuedTimer;
      if (!before(timer, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    heap[i] = timer;
    timer.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const timer = heap[i] as QueuedTimer;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      const right = heap[child + 1];
      if (right && before(right, heap[child] as QueuedTimer)) child++;
      const first = heap[child] as QueuedTimer;
      if (!before(first, timer)) break;
      heap[i] = first;
      first.index = i;
      i = child;
    }
    heap[i] = timer;
    timer.index = i;
  }
}

function before(a: QueuedTimer, b: QueuedTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}
