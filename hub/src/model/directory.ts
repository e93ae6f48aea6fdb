import type { DeviceConfig, GridConfig, HomeConfig, StaffConfig } from '../config/schema.js';

/**
 * The site directory as the hub keeps it (docs/architecture.md, "Site administration"): grids,
 * homes with their residents and contacts, devices, staff. It is data in the store, changed by
 * `directory` log entries; the configuration file only seeds it.
 */
export type GridRecord = GridConfig;

/** A home as stored: everything but its devices, which are records of their own. */
export type HomeRecord = Omit<HomeConfig, 'devices'>;

/** A device as stored, without its secret's hash (kept beside it, never shown). */
export type DeviceFields = Omit<DeviceConfig, 'secretHash' | 'demoSecret'>;

export interface DeviceRecord extends DeviceFields {
  homeId: string;
  /** Hash of the device's secret; null while the hub has not made one (imported, not provisioned). */
  secretHash: string | null;
  /** When the secret was made (entry time), null without one. */
  secretAt: number | null;
}

/** A staff member as stored, without the password hash. */
export type StaffFields = Omit<StaffConfig, 'passwordHash'>;

export interface DirectoryData {
  grids: GridRecord[];
  homes: HomeRecord[];
  devices: DeviceRecord[];
  staff: StaffConfig[];
}

/** create: refused when the id exists; update: refused when it does not; upsert: either. */
export type PutMode = 'create' | 'update' | 'upsert';

/**
 * One change of the directory. An entry carries everything its ops need (a device's secret only as
 * its hash), so applying it is deterministic. Puts carry the whole record (an update is the record
 * as it should be after the change).
 */
export type DirectoryOp =
  | { op: 'grid.put'; mode: PutMode; grid: GridRecord }
  | { op: 'grid.delete'; gridId: string }
  | {
      op: 'home.put';
      mode: PutMode;
      home: HomeRecord;
      /** Removing a resident erases the home's history (as purge-resident): even with unresolved alerts. */
      force?: boolean;
    }
  /** The home, its devices and its history are erased (docs/security.md, "Erasure"). */
  | { op: 'home.delete'; homeId: string; force?: boolean }
  | {
      op: 'device.put';
      mode: PutMode;
      device: DeviceFields & { homeId: string };
      /** A new device's secret hash; absent on an update (the secret stays), null: none yet. */
      secretHash?: string | null;
    }
  /** A new secret (rotation, or the first one of an imported device): the old one stops working. */
  | { op: 'device.secret'; deviceId: string; secretHash: string }
  | { op: 'device.delete'; deviceId: string }
  | {
      op: 'staff.put';
      mode: PutMode;
      staff: StaffFields;
      /** Required to create; absent on an update keeps the password. */
      passwordHash?: string;
    }
  | { op: 'staff.delete'; staffId: string };

export type DirectoryOpName = DirectoryOp['op'];

/** What an applied op did, returned to whoever submitted it. */
export interface DirectoryOpResult {
  op: DirectoryOpName;
  target: string;
  created: boolean;
}

/** Kept for the console and the auditors: one row per applied op (erased with its home). */
export interface DirectoryChange {
  position: number;
  index: number;
  at: number;
  actor: string;
  op: DirectoryOpName;
  target: string;
  homeId: string | null;
  before: unknown;
  after: unknown;
}
