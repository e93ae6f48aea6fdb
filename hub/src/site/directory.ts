import type { DeviceConfig, HomeConfig, HubConfig, StaffConfig } from '../config/schema.js';
import type { DeviceRecord, DirectoryData, GridRecord, HomeRecord } from '../model/directory.js';
import { deviceTopics } from '../protocol/topics.js';

export interface DeviceEntry {
  device: DeviceConfig;
  home: HomeConfig;
  /** The device's own topics, made once: every message is checked against them. */
  eventsTopic: string;
  statusTopic: string;
}

/** The directory a configuration file describes: what a data dir starts from before its seed. */
export function directoryDataOf(config: Readonly<HubConfig>): DirectoryData {
  const grids: GridRecord[] = config.grids.map((g) => ({ id: g.id, name: g.name }));
  const listed = new Set(grids.map((g) => g.id));
  for (const home of config.homes) {
    if (listed.has(home.grid)) continue;
    listed.add(home.grid);
    grids.push({ id: home.grid, name: home.grid });
  }
  const devices: DeviceRecord[] = [];
  const homes: HomeRecord[] = config.homes.map(({ devices: list, ...home }) => {
    for (const { secretHash, demoSecret: _plain, ...device } of list)
      devices.push({ ...device, homeId: home.id, secretHash, secretAt: null });
    return home;
  });
  return { grids, homes, devices, staff: [...config.staff] };
}

/**
 * The site directory in memory: devices, homes, staff, grids and who may see what. A read model
 * over the directory the store keeps: the applier changes it (core/directory-applier.ts) together
 * with the tables, inside the unit of work, and it is loaded again when that work rolls back. Every
 * change to a home or its devices makes a new HomeConfig object (frozen), so caches keyed by the
 * object (the rules' HomeRulesCache) see the change.
 */
export class Directory {
  readonly #grids = new Map<string, GridRecord>();
  readonly #homeRecords = new Map<string, HomeRecord>();
  readonly #deviceRecords = new Map<string, DeviceRecord>();
  /** home id → its device ids, in the order they were added */
  readonly #homeDevices = new Map<string, string[]>();
  readonly #homes = new Map<string, HomeConfig>();
  readonly #devices = new Map<string, DeviceEntry>();
  readonly #staff = new Map<string, StaffConfig>();
  /** resident id → home id */
  readonly #residents = new Map<string, string>();
  /** gateway id → friendly name → device entry */
  readonly #zigbee = new Map<string, Map<string, DeviceEntry>>();
  #homeList: readonly HomeConfig[] | undefined;
  #staffList: readonly StaffConfig[] | undefined;
  #version = 0;

  /** From `data`, or from the configuration's homes and staff (tests, and a data dir not yet seeded). */
  constructor(
    readonly config: Readonly<HubConfig>,
    data: DirectoryData = directoryDataOf(config),
  ) {
    this.reset(data);
  }

  /** Rises with every change: a reader can tell it holds an old view. */
  get version(): number {
    return this.#version;
  }

  device(id: string): DeviceEntry | undefined {
    return this.#devices.get(id);
  }
  /** The device as stored (home, secret made at); its secret hash only for the broker's checks. */
  deviceRecord(id: string): DeviceRecord | undefined {
    return this.#deviceRecords.get(id);
  }
  home(id: string): HomeConfig | undefined {
    return this.#homes.get(id);
  }
  homes(): readonly HomeConfig[] {
    this.#homeList ??= Object.freeze([...this.#homes.values()]);
    return this.#homeList;
  }
  homeRecord(id: string): HomeRecord | undefined {
    return this.#homeRecords.get(id);
  }
  /** The home a resident lives in. */
  residentHome(residentId: string): string | undefined {
    return this.#residents.get(residentId);
  }
  staff(id: string): StaffConfig | undefined {
    return this.#staff.get(id);
  }
  allStaff(): readonly StaffConfig[] {
    this.#staffList ??= Object.freeze([...this.#staff.values()]);
    return this.#staffList;
  }
  grid(id: string): GridRecord | undefined {
    return this.#grids.get(id);
  }
  grids(): readonly GridRecord[] {
    return [...this.#grids.values()];
  }
  zigbeeDevice(gatewayId: string, friendlyName: string): DeviceEntry | undefined {
    return this.#zigbee.get(gatewayId)?.get(friendlyName);
  }
  gatewayBaseTopic(gateway: DeviceConfig): string {
    return gateway.baseTopic ?? this.config.mqtt.gatewayBaseTopic;
  }
  timezoneOf(homeId: string): string {
    return this.#homes.get(homeId)?.timezone ?? this.config.site.timezone;
  }

  /** Duty staff see the homes of their grids; supervisors and admins see every home. */
  canSee(staff: StaffConfig, homeId: string): boolean {
    if (staff.role !== 'duty') return true;
    const home = this.#homes.get(homeId);
    return home !== undefined && staff.grids.includes(home.grid);
  }

  /** The whole directory as records (export, a seed's comparison with the file). */
  data(): DirectoryData {
    return {
      grids: this.grids(),
      homes: [...this.#homeRecords.values()],
      devices: [...this.#deviceRecords.values()],
      staff: [...this.allStaff()],
    } as DirectoryData;
  }

  // Changes: only the applier's directory part calls these, inside its unit of work.

  /** Replace everything (loading from the store, a seed, a rollback). */
  reset(data: DirectoryData): void {
    this.#grids.clear();
    this.#homeRecords.clear();
    this.#deviceRecords.clear();
    this.#homeDevices.clear();
    this.#homes.clear();
    this.#devices.clear();
    this.#residents.clear();
    this.#zigbee.clear();
    this.#staff.clear();
    for (const g of data.grids) this.#grids.set(g.id, frozen(g));
    for (const h of data.homes) {
      this.#homeRecords.set(h.id, frozen(h));
      this.#homeDevices.set(h.id, []);
    }
    for (const d of data.devices) {
      this.#deviceRecords.set(d.id, frozen(d));
      this.#homeDevices.get(d.homeId)?.push(d.id);
    }
    for (const h of data.homes) this.#build(h.id);
    for (const s of data.staff) this.#staff.set(s.id, frozen(s));
    this.#changed(true);
  }

  putGrid(grid: GridRecord): void {
    this.#grids.set(grid.id, frozen(grid));
    this.#changed();
  }

  deleteGrid(id: string): void {
    this.#grids.delete(id);
    this.#changed();
  }

  putHome(home: HomeRecord): void {
    const isNew = !this.#homeRecords.has(home.id);
    this.#homeRecords.set(home.id, frozen(home));
    if (isNew) this.#homeDevices.set(home.id, []);
    this.#build(home.id);
    this.#changed(isNew);
  }

  /** The home and every device of it. */
  deleteHome(id: string): void {
    for (const deviceId of this.#homeDevices.get(id) ?? []) this.#deviceRecords.delete(deviceId);
    this.#unbuild(id);
    this.#homeRecords.delete(id);
    this.#homeDevices.delete(id);
    this.#changed(true);
  }

  putDevice(device: DeviceRecord): void {
    const prev = this.#deviceRecords.get(device.id);
    this.#deviceRecords.set(device.id, frozen(device));
    if (!prev) this.#homeDevices.get(device.homeId)?.push(device.id);
    this.#build(device.homeId);
    this.#changed();
  }

  deleteDevice(id: string): void {
    const prev = this.#deviceRecords.get(id);
    if (!prev) return;
    this.#deviceRecords.delete(id);
    const list = this.#homeDevices.get(prev.homeId);
    if (list) list.splice(list.indexOf(id), 1);
    this.#devices.delete(id);
    this.#build(prev.homeId);
    this.#changed();
  }

  putStaff(staff: StaffConfig): void {
    this.#staff.set(staff.id, frozen(staff));
    this.#staffList = undefined;
    this.#changed();
  }

  deleteStaff(id: string): void {
    this.#staff.delete(id);
    this.#staffList = undefined;
    this.#changed();
  }

  #changed(homeList = false): void {
    this.#version++;
    this.#staffList = undefined;
    // The list holds the HomeConfig objects: any change of a home makes new ones.
    if (homeList || this.#homeList) this.#homeList = undefined;
  }

  /** Drop the home's built objects: its device entries, residents and gateway maps. */
  #unbuild(homeId: string): void {
    const old = this.#homes.get(homeId);
    if (!old) return;
    for (const d of old.devices) {
      this.#devices.delete(d.id);
      if (d.kind === 'gateway') this.#zigbee.delete(d.id);
    }
    for (const r of old.residents) if (this.#residents.get(r.id) === homeId) this.#residents.delete(r.id);
    this.#homes.delete(homeId);
  }

  /** A new HomeConfig for the home (its record and devices), with new device entries. */
  #build(homeId: string): void {
    const record = this.#homeRecords.get(homeId);
    if (!record) return;
    this.#unbuild(homeId);
    const devices = (this.#homeDevices.get(homeId) ?? []).flatMap((id) => {
      const d = this.#deviceRecords.get(id);
      return d ? [deviceConfigOf(d)] : [];
    });
    const home = Object.freeze({ ...record, devices: Object.freeze(devices) }) as HomeConfig;
    this.#homes.set(homeId, home);
    for (const r of home.residents) this.#residents.set(r.id, homeId);
    const entries = new Map<string, DeviceEntry>();
    for (const device of home.devices) {
      const topics = deviceTopics(device.id);
      const entry = { device, home, eventsTopic: topics.events, statusTopic: topics.status };
      this.#devices.set(device.id, entry);
      entries.set(device.id, entry);
    }
    for (const entry of entries.values()) {
      const z = entry.device.zigbee;
      if (!z) continue;
      let byName = this.#zigbee.get(z.gateway);
      if (!byName) {
        byName = new Map();
        this.#zigbee.set(z.gateway, byName);
      }
      byName.set(z.friendlyName, entry);
    }
  }
}

/** The device as the rest of the hub reads it; no secret yet reads as an empty hash (never verifies). */
function deviceConfigOf(d: DeviceRecord): DeviceConfig {
  const { homeId: _home, secretHash, secretAt: _at, ...fields } = d;
  return Object.freeze({ ...fields, secretHash: secretHash ?? '' }) as DeviceConfig;
}

function frozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) frozen(v);
  }
  return value;
}
