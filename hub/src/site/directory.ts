import type { DeviceConfig, HomeConfig, HubConfig, StaffConfig } from '../config/schema.js';
import { deviceTopics } from '../protocol/topics.js';

export interface DeviceEntry {
  device: DeviceConfig;
  home: HomeConfig;
  /** The device's own topics, made once: every message is checked against them. */
  eventsTopic: string;
  statusTopic: string;
}

/** Read-only lookups over the (frozen) configuration: devices, homes, staff and who may see what. */
export class Directory {
  readonly #devices = new Map<string, DeviceEntry>();
  readonly #homes = new Map<string, HomeConfig>();
  readonly #staff = new Map<string, StaffConfig>();
  /** gateway id → friendly name → device entry */
  readonly #zigbee = new Map<string, Map<string, DeviceEntry>>();

  constructor(readonly config: Readonly<HubConfig>) {
    for (const home of config.homes) {
      this.#homes.set(home.id, home);
      for (const device of home.devices) {
        const topics = deviceTopics(device.id);
        this.#devices.set(device.id, {
          device,
          home,
          eventsTopic: topics.events,
          statusTopic: topics.status,
        });
      }
    }
    for (const entry of this.#devices.values()) {
      const { device } = entry;
      if (!device.zigbee) continue;
      let byName = this.#zigbee.get(device.zigbee.gateway);
      if (!byName) {
        byName = new Map();
        this.#zigbee.set(device.zigbee.gateway, byName);
      }
      byName.set(device.zigbee.friendlyName, entry);
    }
    for (const s of config.staff) this.#staff.set(s.id, s);
  }

  device(id: string): DeviceEntry | undefined {
    return this.#devices.get(id);
  }
  home(id: string): HomeConfig | undefined {
    return this.#homes.get(id);
  }
  homes(): readonly HomeConfig[] {
    return this.config.homes;
  }
  staff(id: string): StaffConfig | undefined {
    return this.#staff.get(id);
  }
  allStaff(): readonly StaffConfig[] {
    return this.config.staff;
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
}
