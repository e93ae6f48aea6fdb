import type { Db } from './sqlite-db.js';

export interface DeviceState {
  deviceId: string;
  online: boolean | null;
  battery: number | null;
  batteryLow: boolean | null;
  rssi: number | null;
  lastSeen: number;
}

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

/** Last known state of each device (supervision, battery), updated by the processor. */
export class DeviceStateRepo {
  readonly #get;
  readonly #all;
  readonly #put;

  constructor(db: Db) {
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
    const r = this.#get.get(deviceId);
    return r ? fromRow(r) : undefined;
  }

  all(): DeviceState[] {
    return this.#all.all().map(fromRow);
  }

  put(s: DeviceState): void {
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
