import type { DeviceKind } from '../../hub/src/config/schema.js';
import type { DirectoryOp, HomeRecord } from '../../hub/src/model/directory.js';
import type { DirectoryLogEntry } from '../../hub/src/model/entries.js';

/** A home record for tests: one resident, one contact, in grid g1 unless told. */
export function homeRecord(id: string, over: Partial<HomeRecord> = {}): HomeRecord {
  return {
    id,
    address: `Test Lane ${id}`,
    grid: 'g1',
    residents: [
      { id: `r-${id}`, name: `Resident ${id}`, birthYear: 1940, language: 'zh-CN', wanderingRisk: false },
    ],
    contacts: [{ name: `Daughter ${id}`, relation: 'family', phone: '+86 138 0000 0000', notify: [] }],
    ...over,
  };
}

export function devicePut(
  homeId: string,
  id: string,
  kind: DeviceKind,
  secretHash: string | null,
  extra: Record<string, unknown> = {},
): DirectoryOp {
  return { op: 'device.put', mode: 'create', device: { id, kind, homeId, ...extra }, secretHash };
}

/** A directory entry as the API would submit it. */
export function directoryEntry(
  at: number,
  ops: DirectoryOp[],
  options: { actor?: string; homeId?: string } = {},
): DirectoryLogEntry {
  const entry: DirectoryLogEntry = { kind: 'directory', at, actor: options.actor ?? 'admin1', ops };
  if (options.homeId) entry.homeId = options.homeId;
  return entry;
}
