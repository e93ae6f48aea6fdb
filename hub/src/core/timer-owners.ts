import type { TimerRow } from '../model/timer.js';
import type { Applied, EntryWork } from './applied.js';

/** What to do when one kind of stored timer falls due (`data.owner` names the kind). */
export type TimerOwner = (timer: TimerRow, work: EntryWork, out: Applied) => void;

/**
 * Stored timers are routed by their owner (`rule`, `alert`, `mode`, …) to whoever set them. A
 * timer whose owner nobody registered is dropped with a log line by the caller.
 */
export class TimerOwners {
  readonly #owners = new Map<string, TimerOwner>();

  register(owner: string, handle: TimerOwner): void {
    if (this.#owners.has(owner)) throw new Error(`timer owner ${owner} registered twice`);
    this.#owners.set(owner, handle);
  }

  /** False when no owner is registered for the timer. */
  fire(timer: TimerRow, work: EntryWork, out: Applied): boolean {
    const handle = this.#owners.get(String(timer.data.owner));
    if (!handle) return false;
    handle(timer, work, out);
    return true;
  }
}
