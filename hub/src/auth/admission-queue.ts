import { availableParallelism } from 'node:os';

interface Waiting {
  priority: number;
  order: number;
  isStale: () => boolean;
  start: () => void;
  drop: () => void;
}

/**
 * Admission of connecting devices whose secret is not in the verifier's cache: at most
 * `concurrency` scrypt checks run at once, and the waiting ones go in priority order (lower first,
 * then arrival). After a hub restart every device needs one (~27 ms of CPU each here, ~150 s for
 * 10 000 devices), so SOS buttons, smoke detectors and the gateways that carry them are let in
 * first. A waiting check whose connection has closed meanwhile (the device gave up and will
 * reconnect) is dropped without running: in a reconnect storm, the thread pool would otherwise
 * spend its time on connections nobody waits for.
 */
export class AdmissionQueue {
  readonly #waiting: Waiting[] = [];
  #running = 0;
  #order = 0;
  stats = { run: 0, dropped: 0 };

  constructor(private readonly concurrency = Math.max(1, availableParallelism())) {}

  /** Run `task` when its turn comes; undefined when it was dropped because `isStale()`. */
  run<T>(priority: number, isStale: () => boolean, task: () => Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      const start = () => {
        this.#running++;
        this.stats.run++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            this.#next();
          });
      };
      this.#insert({ priority, order: this.#order++, isStale, start, drop: () => resolve(undefined) });
      this.#next();
    });
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  #insert(w: Waiting): void {
    // Kept sorted; the list is short-lived and insertion is at or near the end within one priority.
    let i = this.#waiting.length;
    while (i > 0 && (this.#waiting[i - 1] as Waiting).priority > w.priority) i--;
    this.#waiting.splice(i, 0, w);
  }

  #next(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      const w = this.#waiting.shift() as Waiting;
      if (w.isStale()) {
        this.stats.dropped++;
        w.drop();
        continue;
      }
      w.start();
    }
  }
}
