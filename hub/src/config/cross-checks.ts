import type { z } from 'zod';

type Obj = Record<string, unknown>;
const objs = (v: unknown): Obj[] =>
  Array.isArray(v) ? v.filter((x): x is Obj => !!x && typeof x === 'object') : [];
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Checks across entries (unique ids, references between homes, devices, gateways and staff).
 * Written against the raw document, not the parsed one, because it also runs when other fields
 * are invalid: `check-config` must list every problem in one go.
 */
export function crossCheck(raw: unknown, ctx: z.RefinementCtx): void {
  if (!raw || typeof raw !== 'object') return;
  const cfg = raw as Obj;
  const add = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const homes = objs(cfg.homes);
  const staff = objs(cfg.staff);
  unique(
    homes.map((h) => str(h.id)),
    ['homes'],
    'home id',
    add,
  );
  unique(
    staff.map((s) => str(s.id)),
    ['staff'],
    'staff id',
    add,
  );

  const gridList = objs(cfg.grids);
  unique(
    gridList.map((g) => str(g.id)),
    ['grids'],
    'grid id',
    add,
  );
  const deviceHome = new Map<string, string>();
  const residents = new Set<string>();
  /** gateway id → index of its home */
  const gateways = new Map<string, number>();
  homes.forEach((home, hi) => {
    objs(home.devices).forEach((device, di) => {
      const id = str(device.id);
      if (id === undefined) return;
      const seen = deviceHome.get(id);
      if (seen !== undefined)
        add(['homes', hi, 'devices', di, 'id'], `device id "${id}" is also used in home ${seen}`);
      deviceHome.set(id, str(home.id) ?? `#${hi}`);
      if (device.kind === 'gateway') gateways.set(id, hi);
      if (device.demoSecret !== undefined && cfg.demo !== true) {
        add(
          ['homes', hi, 'devices', di, 'demoSecret'],
          'plaintext demoSecret is only allowed in a configuration marked demo: true',
        );
      }
    });
    objs(home.residents).forEach((r, ri) => {
      const id = str(r.id);
      if (id === undefined) return;
      if (residents.has(id)) add(['homes', hi, 'residents', ri, 'id'], `resident id "${id}" is used twice`);
      residents.add(id);
    });
  });
  homes.forEach((home, hi) => {
    objs(home.devices).forEach((device, di) => {
      const zigbee = device.zigbee as Obj | undefined;
      const gw = zigbee && typeof zigbee === 'object' ? str(zigbee.gateway) : undefined;
      if (gw === undefined) return;
      const gwHome = gateways.get(gw);
      if (gwHome === undefined)
        add(['homes', hi, 'devices', di, 'zigbee', 'gateway'], `no gateway device "${gw}"`);
      else if (gwHome !== hi)
        add(
          ['homes', hi, 'devices', di, 'zigbee', 'gateway'],
          `gateway "${gw}" belongs to another home: a device is mapped to a gateway of its own home`,
        );
    });
  });
  // With a grids list, every home's grid must be in it; without one, the homes' grids are the grids.
  const listed = new Set(gridList.map((g) => str(g.id)).filter((g) => g !== undefined));
  if (listed.size > 0)
    homes.forEach((home, hi) => {
      const g = str(home.grid);
      if (g !== undefined && !listed.has(g)) add(['homes', hi, 'grid'], `no grid "${g}" in grids`);
    });
  const grids =
    listed.size > 0 ? listed : new Set(homes.map((h) => str(h.grid)).filter((g) => g !== undefined));
  staff.forEach((s, si) => {
    const list = Array.isArray(s.grids) ? s.grids : [];
    if (s.role === 'duty' && list.length === 0)
      add(['staff', si, 'grids'], 'a duty staff member needs at least one grid');
    list.forEach((g, gi) => {
      if (typeof g === 'string' && !grids.has(g))
        add(['staff', si, 'grids', gi], `no home is in grid "${g}"`);
    });
  });
}

function unique(
  values: Array<string | undefined>,
  path: (string | number)[],
  what: string,
  add: (p: (string | number)[], m: string) => void,
): void {
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (v === undefined) return;
    if (seen.has(v)) add([...path, i, 'id'], `${what} "${v}" is used twice`);
    seen.add(v);
  });
}
