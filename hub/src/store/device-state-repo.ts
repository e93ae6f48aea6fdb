import type { DeviceState } from '../model/device-state.js';
import type { Db } from './sqlite-db.js';
import { takeFirst } from './take-first.js';
import type { TransactionalCache } from './unit-of-work.js';

interface Row {
  device_id: string;
  online: number | null;
  battery: number | null;
  battery_low: number | null;
  rssi: number | null;
  last_seen: number;
}

const fromRow = (r: Row): DeviceState => ({
  deviceId: r.device_id,
  online: r.online === null ? null : r.online === 1,
  battery: r.battery,
  batteryLow: r.battery_low === null ? null : r.battery_low === 1,
  rssi: r.rssi,
  lastSeen: r.last_seen,
});

/**
 * Last known state of each device (supervision, battery), updated by the processor.
 *
 * Write-behind for what changes with every heartbeat: `put(s, 'soft')` (only `lastSeen` and `rssi`
 * moved) updates the cache and marks the device dirty; `flushSoft()` writes the dirty ones (the hub
 * does so every few seconds and at stop). A per-heartbeat upsert was a random-page write per event,
 * most of the bytes the hub wrote to disk. A crash can lose at most one flush interval of lastSeen
 * and rssi; online, battery and battery-low changes (`'durable'`) are written in the caller's
 * transaction as before.
 */
export class DeviceStateRepo implements TransactionalCache {
  readonly #get;
  readonly #all;
  readonly #put;
  readonly #cache = new Map<string, DeviceState | null>();
  readonly #dirty = new Set<string>();

  constructor(private readonly db: Db) {
    this.#get = db.prepare<[string], Row>('SELECT * FROM device_state WHERE device_id = ?');
    this.#all = db.prepare<[], Row>('SELECT * FROM device_state');
    this.#put = db.prepare(
      `INSERT INTO device_state(device_id, online, battery, battery_low, rssi, last_seen)
       VALUES (@deviceId, @online, @battery, @batteryLow, @rssi, @lastSeen)
       ON CONFLICT(device_id) DO UPDATE SET online = excluded.online, battery = excluded.battery,
         battery_low = excluded.battery_low, rssi = excluded.rssi, last_seen = excluded.last_seen`,
    );
  }

  get(deviceId: string): DeviceState | undefined {
    let s = this.#cache.get(deviceId);
    if (s === undefined) {
      const r = this.#get.get(deviceId);
      s = r ? fromRow(r) : null;
      this.#cache.set(deviceId, s);
    }
    return s ?? undefined;
  }

  all(): DeviceState[] {
    const rows = new Map(this.#all.all().map((r) => [r.device_id, fromRow(r)]));
    for (const id of this.#dirty) {
      const s = this.#cache.get(id);
      if (s) rows.set(id, s);
    }
    return [...rows.values()];
  }

  put(s: DeviceState, write: 'durable' | 'soft' = 'durable'): void {
    this.#cache.set(s.deviceId, s);
    if (write === 'soft') {
      this.#dirty.add(s.deviceId);
      return;
    }
    this.#dirty.delete(s.deviceId);
    this.#write(s);
  }

  /** A device removed from the site: its state goes, in the caller's transaction. */
  remove(deviceId: string): void {
    this.db.prepare('DELETE FROM device_state WHERE device_id = ?').run(deviceId);
    this.#cache.set(deviceId, null);
    this.#dirty.delete(deviceId);
  }

  /** Devices with soft changes not yet written. */
  dirtyCount(): number {
    return this.#dirty.size;
  }

  /** Write up to `limit` soft changes now, in one transaction. Returns how many are left. */
  flushSoft(limit = Number.POSITIVE_INFINITY): number {
    if (this.#dirty.size === 0) return 0;
    const ids = takeFirst(this.#dirty, limit);
    this.db.transaction(() => {
      for (const id of ids) {
        const s = this.#cache.get(id);
        if (s) this.#write(s);
      }
    })();
    for (const id of ids) this.#dirty.delete(id);
    return this.#dirty.size;
  }

  /**
   * After a rolled-back transaction the cache may hold states of the rolled-back rows: drop it all
   * and read the table again. Soft changes not yet flushed are lost with it, until each device's
   * next message.
   */
  forget(): void {
    this.#cache.clear();
    this.#dirty.clear();
  }

  rolledBack(): void {
    this.forget();
  }

  #write(s: DeviceState): void {
    this.#put.run({
      deviceId: s.deviceId,
      online: s.online === null ? null : s.online ? 1 : 0,
      battery: s.battery,
      batteryLow: s.batteryLow === null ? null : s.batteryLow ? 1 : 0,
      rssi: s.rssi,
      lastSeen: s.lastSeen,
    });
  }
}
