import type { HubClient } from './hub-client.js';

/**
 * The hub's manual clock, moved over HTTP (POST /api/v1/clock/advance). Every hub timer that
 * falls due fires, in order, before the call returns, so a drill plays a week in seconds.
 */
export class DrillClock {
  #now: number;
  advances = 0;

  constructor(
    private readonly client: HubClient,
    startMs: number,
  ) {
    this.#now = startMs;
  }

  /** Read the hub's clock (it is the truth; other clients may have moved it). */
  static async of(client: HubClient): Promise<DrillClock> {
    const reading = await client.clock();
    return new DrillClock(client, reading.nowMs);
  }

  now(): number {
    return this.#now;
  }

  /** Move the hub's clock forward to `at` (no-op when already there or past). */
  async advanceTo(at: number): Promise<void> {
    if (at <= this.#now) return;
    const reading = await this.client.advance(at - this.#now);
    this.advances += 1;
    this.#now = reading.nowMs;
  }
}
