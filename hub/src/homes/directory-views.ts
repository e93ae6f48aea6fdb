import type { HomeConfig } from '../config/schema.js';
import type { DeviceRecord } from '../model/directory.js';
import type { Directory } from '../site/directory.js';
import type { DeviceStateRepo } from '../store/device-state-repo.js';
import type { DirectoryRepo } from '../store/directory-repo.js';
import { formatIso } from '../time/iso.js';

/** A device as the admin pages and API show it: what it is, whether it has a secret, how it is doing. */
export interface DeviceView {
  id: string;
  homeId: string;
  kind: string;
  label: string | null;
  zigbee: { gateway: string; friendlyName: string } | null;
  baseTopic: string | null;
  /** `set` once the hub made its secret; `none` for an imported device not yet provisioned. */
  secret: 'set' | 'none' | 'gateway';
  secretAt: string | null;
  online: boolean | null;
  battery: number | null;
  batteryLow: boolean | null;
  lastSeen: string | null;
}

export interface Page {
  offset: number;
  limit: number;
}

/** The site directory read for its administrators (the API's admin reads and the console's admin pages). */
export class DirectoryViews {
  constructor(
    private readonly directory: Directory,
    private readonly states: DeviceStateRepo,
    private readonly repo: DirectoryRepo,
  ) {}

  /** The change history, newest first: who changed what, when, the record before and after. */
  changes(q: { homeId?: string | undefined; target?: string | undefined; limit: number }) {
    return this.repo.changes(q).map((c) => ({ ...c, at: new Date(c.at).toISOString() }));
  }

  device(id: string): DeviceView | undefined {
    const r = this.directory.deviceRecord(id);
    return r && this.#device(r);
  }

  /** Devices, by home or by a word in their id, label or home; `status` narrows to those needing a visit. */
  devices(q: Page & { homeId?: string | undefined; q?: string | undefined; status?: string | undefined }) {
    const needle = q.q?.toLowerCase();
    const homes =
      q.homeId !== undefined
        ? [this.directory.home(q.homeId)].filter((h) => h !== undefined)
        : this.directory.homes();
    const all: DeviceView[] = [];
    for (const home of homes as HomeConfig[])
      for (const d of home.devices) {
        const r = this.directory.deviceRecord(d.id);
        if (!r) continue;
        if (needle && !`${r.id} ${r.label ?? ''} ${home.id}`.toLowerCase().includes(needle)) continue;
        const v = this.#device(r);
        if (q.status === 'offline' && v.online !== false) continue;
        if (q.status === 'never' && v.lastSeen !== null) continue;
        if (q.status === 'battery' && v.batteryLow !== true && (v.battery ?? 100) > 20) continue;
        if (q.status === 'unprovisioned' && v.secret !== 'none') continue;
        all.push(v);
      }
    return { total: all.length, devices: all.slice(q.offset, q.offset + q.limit) };
  }

  /** Homes by a word in their id or address (residents' names too), or by grid. */
  homes(q: Page & { q?: string | undefined; grid?: string | undefined }) {
    const needle = q.q?.toLowerCase();
    const all = this.directory.homes().filter((h) => {
      if (q.grid !== undefined && h.grid !== q.grid) return false;
      if (!needle) return true;
      return `${h.id} ${h.address} ${h.residents.map((r) => `${r.id} ${r.name}`).join(' ')}`
        .toLowerCase()
        .includes(needle);
    });
    return {
      total: all.length,
      homes: all.slice(q.offset, q.offset + q.limit).map((h) => ({
        id: h.id,
        address: h.address,
        grid: h.grid,
        residents: h.residents.map((r) => ({ id: r.id, name: r.name })),
        contacts: h.contacts.length,
        devices: h.devices.length,
        offline: h.devices.filter((d) => this.states.get(d.id)?.online === false).length,
        unprovisioned: h.devices.filter((d) => d.secretHash === '' && !d.zigbee).length,
      })),
    };
  }

  /** Everything about one home an admin edits: the whole record and its devices. */
  home(id: string) {
    const record = this.directory.homeRecord(id);
    const home = this.directory.home(id);
    if (!record || !home) return undefined;
    return {
      ...record,
      timezone: record.timezone ?? null,
      rules: record.rules ?? null,
      devices: home.devices.map((d) => this.device(d.id)).filter((d) => d !== undefined),
    };
  }

  staff() {
    return this.directory.allStaff().map((s) => ({
      id: s.id,
      name: s.name,
      role: s.role,
      grids: s.grids,
      locale: s.locale ?? null,
    }));
  }

  grids() {
    const homes = new Map<string, number>();
    for (const h of this.directory.homes()) homes.set(h.grid, (homes.get(h.grid) ?? 0) + 1);
    return this.directory.grids().map((g) => ({
      id: g.id,
      name: g.name,
      homes: homes.get(g.id) ?? 0,
      staff: this.directory.allStaff().filter((s) => s.grids.includes(g.id)).length,
    }));
  }

  #device(r: DeviceRecord): DeviceView {
    const s = this.states.get(r.id);
    const tz = this.directory.timezoneOf(r.homeId);
    return {
      id: r.id,
      homeId: r.homeId,
      kind: r.kind,
      label: r.label ?? null,
      zigbee: r.zigbee ?? null,
      baseTopic: r.baseTopic ?? null,
      secret: r.zigbee ? 'gateway' : r.secretHash ? 'set' : 'none',
      secretAt: r.secretAt === null ? null : formatIso(r.secretAt, tz),
      online: s?.online ?? null,
      battery: s?.battery ?? null,
      batteryLow: s?.batteryLow ?? null,
      lastSeen: s ? formatIso(s.lastSeen, tz) : null,
    };
  }
}
