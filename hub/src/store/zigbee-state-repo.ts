import type { Db } from './sqlite-db.js';
import type { TransactionalCache } from './unit-of-work.js';

/**
 * What the hub kept of each Zigbee2MQTT device's last report (protocol/zigbee-memory.ts), as JSON.
 * Written by the applier from the device entries it applies, in the same unit of work, so it never
 * runs ahead of the journal: after a restart, ingest decodes a device's next report against exactly
 * the report behind the last stored event. `seq` is the journal row it came from; an older row never
 * overwrites a newer one.
 *
 * A report that changes nothing the memory holds (a periodic report with the same values) writes
 * nothing: the last memory written per device is remembered, and forgotten with a rolled-back
 * transaction (`forget`), as DeviceStateRepo does.
 */
export class ZigbeeStateRepo implements TransactionalCache {
  readonly #get;
  readonly #put;
  readonly #remove;
  readonly #written = new Map<string, string>();

  constructor(db: Db) {
    this.#remove = db.prepare('DELETE FROM zigbee_state WHERE device_id = ?');
    this.#get = db.prepare<[string], { memory: string }>(
      'SELECT memory FROM zigbee_state WHERE device_id = ?',
    );
    this.#put = db.prepare<[string, string, number]>(
      `INSERT INTO zigbee_state(device_id, memory, seq) VALUES (?, ?, ?)
       ON CONFLICT(device_id) DO UPDATE SET memory = excluded.memory, seq = excluded.seq
       WHERE excluded.seq >= zigbee_state.seq`,
    );
  }

  get(deviceId: string): string | undefined {
    return this.#get.get(deviceId)?.memory;
  }

  put(deviceId: string, memory: string, seq: number): void {
    if (this.#written.get(deviceId) === memory) return;
    this.#put.run(deviceId, memory, seq);
    this.#written.set(deviceId, memory);
  }

  /** A device removed from the site: what the hub kept of its reports goes. */
  remove(deviceId: string): void {
    this.#remove.run(deviceId);
    this.#written.delete(deviceId);
  }

  /** After a rolled-back transaction: what was written may not be on disk. */
  forget(): void {
    this.#written.clear();
  }

  rolledBack(): void {
    this.forget();
  }
}
