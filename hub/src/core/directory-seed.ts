import type { HubConfig } from '../config/schema.js';
import type { DeviceRecord, DirectoryData, DirectoryOp, PutMode } from '../model/directory.js';
import type { DirectoryLogEntry } from '../model/entries.js';
import { Directory, directoryDataOf } from '../site/directory.js';
import type { HubStore } from '../store/open-store.js';
import { SEED_ACTOR } from './directory-applier.js';
import { sortedKeys } from './directory-redact.js';

/**
 * The directory a configuration file describes, as log entries: grids and staff in one, then one
 * per home (the home and its devices, gateways first), so that a home's entry is erased with it.
 * `seed`: the first entry starts the directory from nothing (the first start of a data dir);
 * otherwise every record is put with `mode` (`carehub import --config`: upsert, nothing removed).
 */
export function directoryEntries(
  data: DirectoryData,
  at: number,
  options: { actor: string; seed: boolean; mode: PutMode },
): DirectoryLogEntry[] {
  const { actor, mode } = options;
  const first: DirectoryLogEntry = {
    kind: 'directory',
    at,
    actor,
    ops: [
      ...data.grids.map((grid): DirectoryOp => ({ op: 'grid.put', mode, grid })),
      ...data.staff.map((s): DirectoryOp => {
        const { passwordHash, ...staff } = s;
        return { op: 'staff.put', mode, staff, passwordHash };
      }),
    ],
  };
  if (options.seed) first.seed = true;
  const byHome = new Map<string, DeviceRecord[]>();
  for (const d of data.devices) {
    const list = byHome.get(d.homeId) ?? [];
    list.push(d);
    byHome.set(d.homeId, list);
  }
  const homes = data.homes.map((home): DirectoryLogEntry => {
    const devices = byHome.get(home.id) ?? [];
    // A mapped device is checked against its gateway: gateways go first.
    const ordered = [
      ...devices.filter((d) => d.kind === 'gateway'),
      ...devices.filter((d) => d.kind !== 'gateway'),
    ];
    return {
      kind: 'directory',
      at,
      actor,
      homeId: home.id,
      ops: [
        { op: 'home.put', mode, home },
        ...ordered.map((d): DirectoryOp => {
          const { secretHash, secretAt: _at, ...device } = d;
          return { op: 'device.put', mode, device, secretHash };
        }),
      ],
    };
  });
  return [first, ...homes];
}

/** The seed of a new data dir from its configuration file (submitted once, at the first start). */
export function seedEntries(config: Readonly<HubConfig>, at: number): DirectoryLogEntry[] {
  return directoryEntries(directoryDataOf(config), at, { actor: SEED_ACTOR, seed: true, mode: 'create' });
}

export interface DirectoryDiff {
  onlyInFile: string[];
  onlyInStore: string[];
  differ: string[];
}

/**
 * How the configuration file's directory differs from the store's, by record (`home h1`,
 * `device h1-sos`, `staff duty1`, `grid g1`): said at start when the file changed after the seed.
 */
export function directoryDiff(file: DirectoryData, store: DirectoryData): DirectoryDiff {
  const keyed = (d: DirectoryData) => {
    const m = new Map<string, string>();
    for (const g of d.grids) m.set(`grid ${g.id}`, JSON.stringify(g));
    for (const h of d.homes) m.set(`home ${h.id}`, JSON.stringify(sortedKeys(h)));
    for (const { secretAt: _at, ...x } of d.devices) m.set(`device ${x.id}`, JSON.stringify(sortedKeys(x)));
    for (const s of d.staff) m.set(`staff ${s.id}`, JSON.stringify(sortedKeys(s)));
    return m;
  };
  const a = keyed(file);
  const b = keyed(store);
  const diff: DirectoryDiff = { onlyInFile: [], onlyInStore: [], differ: [] };
  for (const [k, v] of a) {
    const other = b.get(k);
    if (other === undefined) diff.onlyInFile.push(k);
    else if (other !== v) diff.differ.push(k);
  }
  for (const k of b.keys()) if (!a.has(k)) diff.onlyInStore.push(k);
  return diff;
}

/** The site directory a hub (or a replica) starts with: the store's once seeded, the configuration file's before. */
export function openDirectory(config: Readonly<HubConfig>, store: HubStore): Directory {
  return store.directory.seededAt() === undefined
    ? new Directory(config)
    : new Directory(config, store.directory.loadAll());
}
