import type { Logger } from '../log.js';

/**
 * Lines about refused requests, per reason at most once per interval with a count of those left out:
 * a stranger sending junk must not flood the log.
 */
export class RefusalLog {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  info(reason: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.now();
    const entry = this.#last.get(reason);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    this.log.info({ ...fields, reason, suppressed: entry?.suppressed ?? 0 }, msg);
    this.#last.set(reason, { at: now, suppressed: 0 });
    if (this.#last.size > 1000) this.#last.delete(this.#last.keys().next().value as string);
  }
}
