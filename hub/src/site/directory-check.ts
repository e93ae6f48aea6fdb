import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes } from '../errors.js';
import type { DeviceFields, DirectoryOp, GridRecord, HomeRecord } from '../model/directory.js';
import type { Directory } from './directory.js';
import { type Problem, problem } from './problems.js';

/** What the check needs beyond the directory: the alerts an erasure would remove. */
export interface CheckContext {
  unresolvedAlerts(homeId: string): number;
}

interface DraftDevice {
  homeId: string;
  kind: DeviceFields['kind'];
  zigbee: DeviceFields['zigbee'];
}

/**
 * The directory with a change's ops laid over it, without touching it: what the ops read is what
 * the ops before them left. `null` in an override map: deleted by an earlier op.
 */
class Draft {
  readonly grids = new Map<string, GridRecord | null>();
  readonly homes = new Map<string, HomeRecord | null>();
  readonly devices = new Map<string, DraftDevice | null>();
  /** home id → devices the ops put there (an index over `devices`) */
  readonly #homeDevices = new Map<string, Set<string>>();
  readonly staff = new Map<string, Pick<StaffConfig, 'role' | 'grids'> | null>();
  readonly residents = new Map<string, string | null>();

  constructor(readonly dir: Directory) {}

  grid(id: string): GridRecord | undefined {
    const o = this.grids.get(id);
    return o === null ? undefined : (o ?? this.dir.grid(id));
  }
  home(id: string): HomeRecord | undefined {
    const o = this.homes.get(id);
    return o === null ? undefined : (o ?? this.dir.homeRecord(id));
  }
  device(id: string): DraftDevice | undefined {
    const o = this.devices.get(id);
    if (o === null) return undefined;
    if (o) return o;
    const entry = this.dir.device(id);
    return entry && { homeId: entry.home.id, kind: entry.device.kind, zigbee: entry.device.zigbee };
  }
  staffMember(id: string): Pick<StaffConfig, 'role' | 'grids'> | undefined {
    const o = this.staff.get(id);
    return o === null ? undefined : (o ?? this.dir.staff(id));
  }
  residentHome(id: string): string | undefined {
    const o = this.residents.get(id);
    return o === null ? undefined : (o ?? this.dir.residentHome(id));
  }
  setDevice(id: string, d: DraftDevice | null): void {
    this.devices.set(id, d);
    if (!d) return;
    let set = this.#homeDevices.get(d.homeId);
    if (!set) {
      set = new Set();
      this.#homeDevices.set(d.homeId, set);
    }
    set.add(id);
  }
  /** Ids of the home's devices, as the ops so far leave them. */
  devicesOf(homeId: string): string[] {
    const ids = new Set((this.dir.home(homeId)?.devices ?? []).map((d) => d.id));
    for (const id of this.#homeDevices.get(homeId) ?? []) ids.add(id);
    return [...ids].filter((id) => this.device(id)?.homeId === homeId);
  }
  /** Devices mapped to a gateway (they are all of its home). */
  mappedTo(gatewayId: string): Array<{ id: string; friendlyName: string }> {
    const home = this.device(gatewayId)?.homeId;
    if (home === undefined) return [];
    return this.devicesOf(home).flatMap((id) => {
      const z = this.device(id)?.zigbee;
      return z && z.gateway === gatewayId ? [{ id, friendlyName: z.friendlyName }] : [];
    });
  }
  homesInGrid(gridId: string): number {
    const ids = new Set(this.dir.homes().map((h) => h.id));
    for (const id of this.homes.keys()) ids.add(id);
    let n = 0;
    for (const id of ids) if (this.home(id)?.grid === gridId) n++;
    return n;
  }
  staffIds(): string[] {
    const ids = new Set(this.dir.allStaff().map((s) => s.id));
    for (const id of this.staff.keys()) ids.add(id);
    return [...ids].filter((id) => this.staffMember(id) !== undefined);
  }
}

/**
 * Every problem of a directory change, checked op by op against what the ops before it leave
 * (unique ids, grids that exist, gateways of the device's own home, nothing still in use removed,
 * an admin left). Pure: nothing is written. The applier refuses a change with problems, and a dry
 * run (an import's) lists them. Shapes (lengths, formats) are the edges' part (site/directory-input.ts).
 */
export function checkOps(dir: Directory, ops: readonly DirectoryOp[], ctx: CheckContext): Problem[] {
  const draft = new Draft(dir);
  const hasAdmin = () => draft.staffIds().some((id) => draft.staffMember(id)?.role === 'admin');
  // A site seeded from a file of before site administration may have no admin: it still starts.
  const hadAdmin = hasAdmin();
  const problems: Problem[] = [];
  const add = (op: number, p: Problem) => problems.push({ ...p, op });
  ops.forEach((op, i) => {
    for (const p of checkOne(draft, op, ctx)) add(i, p);
    applyToDraft(draft, op);
  });
  // Someone must still be able to administer the site afterwards.
  const staffOps = ops.map((op, i) => [op, i] as const).filter(([op]) => op.op.startsWith('staff.'));
  const lastStaffOp = staffOps[staffOps.length - 1];
  if (lastStaffOp && hadAdmin && !hasAdmin())
    add(lastStaffOp[1], problem(ErrorCodes.IN_USE, 'role', 'problem.last_admin'));
  return problems;
}

function checkOne(draft: Draft, op: DirectoryOp, ctx: CheckContext): Problem[] {
  const out: Problem[] = [];
  const exists = (found: boolean, mode: 'create' | 'update' | 'upsert', id: string, what: What) => {
    if (found && mode === 'create')
      out.push(problem(ErrorCodes.DUPLICATE_ID, 'id', 'problem.duplicate_id', { id }));
    if (!found && mode === 'update') out.push(notFound('id', what, id));
  };
  switch (op.op) {
    case 'grid.put':
      exists(draft.grid(op.grid.id) !== undefined, op.mode, op.grid.id, 'grid');
      break;
    case 'grid.delete': {
      if (!draft.grid(op.gridId)) {
        out.push(notFound('id', 'grid', op.gridId));
        break;
      }
      const staffIn = draft.staffIds().some((id) => draft.staffMember(id)?.grids.includes(op.gridId));
      if (draft.homesInGrid(op.gridId) > 0 || staffIn)
        out.push(problem(ErrorCodes.IN_USE, 'id', 'problem.grid_in_use', { grid: op.gridId }));
      break;
    }
    case 'home.put': {
      const prev = draft.home(op.home.id);
      exists(prev !== undefined, op.mode, op.home.id, 'home');
      if (!draft.grid(op.home.grid))
        out.push(problem(ErrorCodes.UNKNOWN_GRID, 'grid', 'problem.unknown_grid', { grid: op.home.grid }));
      const seen = new Set<string>();
      op.home.residents.forEach((r, ri) => {
        const elsewhere = draft.residentHome(r.id);
        if (seen.has(r.id) || (elsewhere !== undefined && elsewhere !== op.home.id))
          out.push(
            problem(ErrorCodes.DUPLICATE_ID, `residents.${ri}.id`, 'problem.duplicate_resident', {
              id: r.id,
              home: elsewhere ?? op.home.id,
            }),
          );
        seen.add(r.id);
      });
      if (prev && op.mode !== 'create') {
        const removed = prev.residents.some((r) => !seen.has(r.id));
        const open = removed ? ctx.unresolvedAlerts(op.home.id) : 0;
        if (open > 0 && !op.force)
          out.push(
            problem(ErrorCodes.PURGE_REFUSED, 'residents', 'problem.unresolved_alerts', {
              home: op.home.id,
              count: String(open),
            }),
          );
      }
      break;
    }
    case 'home.delete': {
      if (!draft.home(op.homeId)) {
        out.push(notFound('id', 'home', op.homeId));
        break;
      }
      const open = ctx.unresolvedAlerts(op.homeId);
      if (open > 0 && !op.force)
        out.push(
          problem(ErrorCodes.PURGE_REFUSED, 'id', 'problem.unresolved_alerts', {
            home: op.homeId,
            count: String(open),
          }),
        );
      break;
    }
    case 'device.put': {
      const d = op.device;
      const prev = draft.device(d.id);
      exists(prev !== undefined, op.mode, d.id, 'device');
      if (!draft.home(d.homeId)) out.push(notFound('homeId', 'home', d.homeId));
      if (prev && prev.homeId !== d.homeId && op.mode !== 'create')
        out.push(problem(ErrorCodes.BAD_REQUEST, 'homeId', 'problem.device_home_fixed', { id: d.id }));
      if (prev && prev.kind === 'gateway' && d.kind !== 'gateway' && draft.mappedTo(d.id).length > 0)
        out.push(problem(ErrorCodes.IN_USE, 'kind', 'problem.gateway_in_use', { gateway: d.id }));
      if (d.zigbee) out.push(...checkMapping(draft, d.id, d.homeId, d.zigbee));
      break;
    }
    case 'device.secret': {
      const d = draft.device(op.deviceId);
      if (!d) out.push(notFound('id', 'device', op.deviceId));
      else if (d.zigbee)
        out.push(problem(ErrorCodes.BAD_REQUEST, 'id', 'problem.device_behind_gateway', { id: op.deviceId }));
      break;
    }
    case 'device.delete': {
      const d = draft.device(op.deviceId);
      if (!d) out.push(notFound('id', 'device', op.deviceId));
      else if (d.kind === 'gateway' && draft.mappedTo(op.deviceId).length > 0)
        out.push(problem(ErrorCodes.IN_USE, 'id', 'problem.gateway_in_use', { gateway: op.deviceId }));
      break;
    }
    case 'staff.put': {
      const s = op.staff;
      exists(draft.staffMember(s.id) !== undefined, op.mode, s.id, 'staff');
      if (op.mode === 'create' && op.passwordHash === undefined)
        out.push(problem(ErrorCodes.BAD_REQUEST, 'password', 'problem.required'));
      if (s.role === 'duty' && s.grids.length === 0)
        out.push(problem(ErrorCodes.BAD_REQUEST, 'grids', 'problem.grids_required'));
      s.grids.forEach((g, gi) => {
        if (!draft.grid(g))
          out.push(problem(ErrorCodes.UNKNOWN_GRID, `grids.${gi}`, 'problem.unknown_grid', { grid: g }));
      });
      break;
    }
    case 'staff.delete':
      if (!draft.staffMember(op.staffId)) out.push(notFound('id', 'staff', op.staffId));
      break;
  }
  return out;
}

type What = 'home' | 'device' | 'grid' | 'staff';

const notFound = (field: string, what: What, id: string): Problem =>
  problem(ErrorCodes.NOT_FOUND, field, `problem.no_${what}`, { id });

function checkMapping(
  draft: Draft,
  deviceId: string,
  homeId: string,
  zigbee: NonNullable<DeviceFields['zigbee']>,
): Problem[] {
  const gw = draft.device(zigbee.gateway);
  const field = 'zigbee.gateway';
  if (!gw)
    return [
      problem(ErrorCodes.GATEWAY_MISMATCH, field, 'problem.gateway_unknown', { gateway: zigbee.gateway }),
    ];
  if (gw.kind !== 'gateway')
    return [
      problem(ErrorCodes.GATEWAY_MISMATCH, field, 'problem.gateway_not_gateway', { gateway: zigbee.gateway }),
    ];
  if (gw.homeId !== homeId)
    return [
      problem(ErrorCodes.GATEWAY_MISMATCH, field, 'problem.gateway_other_home', {
        gateway: zigbee.gateway,
        home: gw.homeId,
      }),
    ];
  const taken = draft
    .mappedTo(zigbee.gateway)
    .find((m) => m.friendlyName === zigbee.friendlyName && m.id !== deviceId);
  if (taken)
    return [
      problem(ErrorCodes.DUPLICATE_ID, 'zigbee.friendlyName', 'problem.friendly_name_taken', {
        gateway: zigbee.gateway,
        name: zigbee.friendlyName,
      }),
    ];
  return [];
}

/** Lay the op over the draft (even a refused one, so later ops are checked against the intent). */
function applyToDraft(draft: Draft, op: DirectoryOp): void {
  switch (op.op) {
    case 'grid.put':
      draft.grids.set(op.grid.id, op.grid);
      return;
    case 'grid.delete':
      draft.grids.set(op.gridId, null);
      return;
    case 'home.put': {
      const prev = draft.home(op.home.id);
      for (const r of prev?.residents ?? []) draft.residents.set(r.id, null);
      // A resident another home holds stays with it (the refused claim is not laid over).
      for (const r of op.home.residents) {
        const holder = draft.residentHome(r.id);
        if (holder === undefined || holder === op.home.id) draft.residents.set(r.id, op.home.id);
      }
      draft.homes.set(op.home.id, op.home);
      return;
    }
    case 'home.delete': {
      for (const id of draft.devicesOf(op.homeId)) draft.setDevice(id, null);
      for (const r of draft.home(op.homeId)?.residents ?? []) draft.residents.set(r.id, null);
      draft.homes.set(op.homeId, null);
      return;
    }
    case 'device.put':
      draft.setDevice(op.device.id, {
        homeId: op.device.homeId,
        kind: op.device.kind,
        zigbee: op.device.zigbee,
      });
      return;
    case 'device.delete':
      draft.setDevice(op.deviceId, null);
      return;
    case 'staff.put':
      draft.staff.set(op.staff.id, { role: op.staff.role, grids: op.staff.grids });
      return;
    case 'staff.delete':
      draft.staff.set(op.staffId, null);
      return;
    case 'device.secret':
      return;
  }
}
