import { type CsvError, parse } from 'csv-parse/sync';
import { ErrorCodes } from '../errors.js';
import type { DeviceFields, DirectoryOp, HomeRecord } from '../model/directory.js';
import type { Directory } from './directory.js';
import { type CheckContext, checkOps } from './directory-check.js';
import { deviceCreateSchema, homeCreateSchema, inputProblems } from './directory-input.js';
import { type Problem, problem } from './problems.js';

/**
 * The CSV a bureau keeps its resident lists in (docs/api.md, "Import and export"): one row per
 * device, rows of a home together by `home_id`; a row may also carry one resident and one contact
 * of the home. Home columns may repeat on every row of the home (they must then agree).
 */
export const CSV_COLUMNS = [
  'home_id',
  'address',
  'grid',
  'timezone',
  'resident_id',
  'resident_name',
  'resident_birth_year',
  'resident_language',
  'resident_phone',
  'resident_wandering_risk',
  'resident_notes',
  'contact_name',
  'contact_relation',
  'contact_phone',
  'contact_email',
  'contact_language',
  'contact_notify',
  'device_id',
  'device_kind',
  'device_label',
  'zigbee_gateway',
  'zigbee_friendly_name',
  'gateway_base_topic',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/** Rows one file may hold: a city district's homes fit many times over. */
export const MAX_IMPORT_ROWS = 200_000;

/** One home's directory change planned from the file, with the CSV row each op came from. */
export interface PlannedChange {
  homeId: string;
  ops: DirectoryOp[];
  rows: number[];
  /** Where the home op's fields came from: `grid`, `residents.2` … → CSV row. */
  homeRows: Record<string, number>;
}

export interface ImportPlan {
  changes: PlannedChange[];
  problems: Problem[];
  homes: { created: number; updated: number };
  devices: { created: number; updated: number };
}

type Row = { n: number; cells: Partial<Record<CsvColumn, string>> };

const RESIDENT_COLUMNS: Record<string, CsvColumn> = {
  id: 'resident_id',
  name: 'resident_name',
  birthYear: 'resident_birth_year',
  language: 'resident_language',
  phone: 'resident_phone',
  wanderingRisk: 'resident_wandering_risk',
  notes: 'resident_notes',
};
const CONTACT_COLUMNS: Record<string, CsvColumn> = {
  name: 'contact_name',
  relation: 'contact_relation',
  phone: 'contact_phone',
  email: 'contact_email',
  language: 'contact_language',
  notify: 'contact_notify',
};
const DEVICE_COLUMNS: Record<string, CsvColumn> = {
  id: 'device_id',
  homeId: 'home_id',
  kind: 'device_kind',
  label: 'device_label',
  zigbee: 'zigbee_gateway',
  'zigbee.gateway': 'zigbee_gateway',
  'zigbee.friendlyName': 'zigbee_friendly_name',
  baseTopic: 'gateway_base_topic',
};

const csvProblem = (
  row: number,
  field: string,
  key: string,
  params: Record<string, string> = {},
): Problem => ({
  ...problem(ErrorCodes.BAD_REQUEST, field, key, params),
  row,
});

/**
 * Read an import file into the directory changes it asks for (one per home: the home, then its
 * devices, gateways first) and every problem in it, by CSV row (1 is the header) and column: its
 * shape, then the same checks the applier makes (site/directory-check.ts), over the whole file
 * at once. Nothing is changed here: a dry run shows this, an import submits `changes` together.
 * An import adds and updates; it never removes a home, a resident or a device.
 */
export function planImport(bytes: Buffer, dir: Directory, ctx: CheckContext): ImportPlan {
  const plan: ImportPlan = {
    changes: [],
    problems: [],
    homes: { created: 0, updated: 0 },
    devices: { created: 0, updated: 0 },
  };
  const rows = readRows(bytes, plan.problems);
  if (!rows) return plan;
  const byHome = new Map<string, Row[]>();
  for (const row of rows) {
    const id = row.cells.home_id ?? '';
    if (id === '') {
      plan.problems.push(csvProblem(row.n, 'home_id', 'problem.required'));
      continue;
    }
    const list = byHome.get(id) ?? [];
    list.push(row);
    byHome.set(id, list);
  }
  // Homes with problems of their own are still checked with the rest (as far as they go), never submitted.
  const checked: PlannedChange[] = [];
  for (const [homeId, homeRows] of byHome) {
    const { change, valid } = planHome(homeId, homeRows, dir, plan);
    checked.push(change);
    if (valid) plan.changes.push(change);
  }
  // The applier's checks, over every change of the file in order (two homes claiming one device id …).
  const ops = checked.flatMap((c) => c.ops);
  const rowOf = checked.flatMap((c) => c.rows);
  const changeOf = checked.flatMap((c) => c.ops.map(() => c));
  for (const p of checkOps(dir, ops, ctx)) {
    const i = p.op ?? 0;
    const op = ops[i] as DirectoryOp;
    let row = rowOf[i] ?? 0;
    let field = p.field;
    if (op.op === 'home.put') {
      const [head, index] = field.split('.');
      const key = head === 'residents' && index !== undefined ? `residents.${index}` : (head ?? '');
      row = changeOf[i]?.homeRows[key] ?? row;
      field = head === 'id' ? 'home_id' : head === 'residents' ? 'resident_id' : field;
    } else if (op.op === 'device.put') field = DEVICE_COLUMNS[field] ?? 'device_id';
    plan.problems.push({ ...p, row, field });
  }
  // One problem per cell: the first found (a bad value, before what the checks make of it).
  const seen = new Set<string>();
  plan.problems = plan.problems.filter((p) => {
    const key = `${p.row}|${p.field}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  plan.problems.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  if (plan.problems.length > 0) plan.changes = [];
  return plan;
}

/** The header and the rows as cells by column; null (with problems) when the file cannot be read. */
function readRows(bytes: Buffer, problems: Problem[]): Row[] | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    problems.push(
      csvProblem(0, '', 'problem.csv_syntax', { detail: 'the file is not UTF-8 (save it as "CSV UTF-8")' }),
    );
    return null;
  }
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      relax_column_count: true,
      skip_empty_lines: false,
      max_record_size: 65_536,
    });
  } catch (err) {
    const e = err as CsvError & { records?: number };
    problems.push(
      csvProblem((e.records ?? 0) + 1, '', 'problem.csv_syntax', {
        detail:
          String(e.message ?? err)
            .split('\n')[0]
            ?.slice(0, 200) ?? '',
      }),
    );
    return null;
  }
  const header = records[0];
  if (!header || records.length < 2) {
    problems.push(csvProblem(1, '', 'problem.empty_file'));
    return null;
  }
  if (records.length - 1 > MAX_IMPORT_ROWS) {
    problems.push(csvProblem(0, '', 'problem.too_many_rows', { max: String(MAX_IMPORT_ROWS) }));
    return null;
  }
  const columns: Array<CsvColumn | undefined> = [];
  const seen = new Set<string>();
  header.forEach((raw) => {
    const name = raw.trim().toLowerCase();
    if (!(CSV_COLUMNS as readonly string[]).includes(name)) {
      problems.push(
        csvProblem(1, name.slice(0, 64), 'problem.unknown_column', { column: name.slice(0, 64) }),
      );
      columns.push(undefined);
      return;
    }
    if (seen.has(name)) problems.push(csvProblem(1, name, 'problem.duplicate_column', { column: name }));
    seen.add(name);
    columns.push(name as CsvColumn);
  });
  if (!seen.has('home_id'))
    problems.push(csvProblem(1, 'home_id', 'problem.missing_column', { column: 'home_id' }));
  if (problems.length > 0) return null;
  const rows: Row[] = [];
  records.slice(1).forEach((record, i) => {
    const n = i + 2;
    if (record.every((c) => c === '')) return;
    if (record.length !== header.length) {
      problems.push(
        csvProblem(n, '', 'problem.csv_syntax', {
          detail: `${record.length} cells where the header has ${header.length}`,
        }),
      );
      return;
    }
    const cells: Row['cells'] = {};
    record.forEach((value, ci) => {
      const col = columns[ci];
      // A leading ' kept a spreadsheet from reading the cell as a formula (the export adds it).
      if (col && value !== '') cells[col] = /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
    });
    rows.push({ n, cells });
  });
  return problems.length > 0 ? null : rows;
}

/** One home's change: the home record (merged with the stored one) and its devices. */
function planHome(
  homeId: string,
  rows: Row[],
  dir: Directory,
  plan: ImportPlan,
): { change: PlannedChange; valid: boolean } {
  const problems = plan.problems;
  const before = problems.length;
  const existing = dir.homeRecord(homeId);
  // Home columns: the first row that gives one; a later row that says otherwise is a problem.
  const homeCell = (col: CsvColumn): { value: string; row: number } | undefined => {
    let found: { value: string; row: number } | undefined;
    for (const r of rows) {
      const v = r.cells[col];
      if (v === undefined) continue;
      if (!found) found = { value: v, row: r.n };
      else if (v !== found.value)
        problems.push(csvProblem(r.n, col, 'problem.home_fields_differ', { home: homeId, column: col }));
    }
    return found;
  };
  const address = homeCell('address');
  const grid = homeCell('grid');
  const timezone = homeCell('timezone');
  const first = rows[0]?.n ?? 0;
  // Residents: by id, merged into the stored ones (a cell left empty keeps what is stored).
  const residents = (existing?.residents ?? []).map((r) => ({ ...r })) as Array<Record<string, unknown>>;
  const residentRow = new Map<number, number>();
  for (const r of rows) {
    const id = r.cells.resident_id;
    const hasResident = Object.keys(RESIDENT_COLUMNS).some(
      (k) => r.cells[RESIDENT_COLUMNS[k] as CsvColumn] !== undefined,
    );
    if (!hasResident) continue;
    if (id === undefined) {
      problems.push(csvProblem(r.n, 'resident_id', 'problem.required'));
      continue;
    }
    let target = residents.find((x) => x.id === id);
    if (!target) {
      target = { id };
      residents.push(target);
    }
    residentRow.set(residents.indexOf(target), r.n);
    const c = r.cells;
    if (c.resident_name !== undefined) target.name = c.resident_name;
    if (c.resident_birth_year !== undefined) {
      const y = Number(c.resident_birth_year);
      if (!Number.isInteger(y)) problems.push(csvProblem(r.n, 'resident_birth_year', 'problem.not_a_number'));
      else target.birthYear = y;
    }
    if (c.resident_language !== undefined) target.language = c.resident_language;
    if (c.resident_phone !== undefined) target.phone = c.resident_phone;
    if (c.resident_notes !== undefined) target.notes = c.resident_notes;
    if (c.resident_wandering_risk !== undefined) {
      const b = yesNo(c.resident_wandering_risk);
      if (b === undefined) problems.push(csvProblem(r.n, 'resident_wandering_risk', 'problem.not_a_boolean'));
      else target.wanderingRisk = b;
    }
  }
  // Contacts: the file's, when it gives any for the home; the stored ones otherwise.
  const contactRows = rows.filter((r) =>
    Object.values(CONTACT_COLUMNS).some((col) => r.cells[col] !== undefined),
  );
  const contacts =
    contactRows.length > 0
      ? contactRows.map((r) => {
          const c = r.cells;
          const contact: Record<string, unknown> = { name: c.contact_name, relation: c.contact_relation };
          if (c.contact_phone !== undefined) contact.phone = c.contact_phone;
          if (c.contact_email !== undefined) contact.email = c.contact_email;
          if (c.contact_language !== undefined) contact.language = c.contact_language;
          contact.notify = (c.contact_notify ?? '')
            .split(/[|;,\s]+/)
            .map((s) => s.trim().toLowerCase())
            .filter((s) => s !== '');
          return contact;
        })
      : (existing?.contacts ?? []);
  const raw: Record<string, unknown> = {
    ...(existing ?? {}),
    id: homeId,
    residents,
    contacts,
  };
  if (address) raw.address = address.value;
  if (grid) raw.grid = grid.value;
  if (timezone) raw.timezone = timezone.value;
  const parsed = homeCreateSchema.safeParse(raw);
  if (!parsed.success) {
    for (const p of inputProblems(parsed.error.issues)) {
      const [head, index, leaf] = p.field.split('.');
      let row = first;
      let field: string = p.field;
      if (head === 'residents' && index !== undefined) {
        row = residentRow.get(Number(index)) ?? first;
        field = RESIDENT_COLUMNS[leaf ?? 'id'] ?? 'resident_id';
      } else if (head === 'contacts' && index !== undefined) {
        row = contactRows[Number(index)]?.n ?? first;
        field = CONTACT_COLUMNS[leaf ?? 'name'] ?? 'contact_name';
      } else if (head === 'address' || head === 'grid' || head === 'timezone') {
        row = { address, grid, timezone }[head]?.row ?? first;
        field = head;
      } else if (head === 'id') field = 'home_id';
      problems.push({ ...p, row, field });
    }
  }
  // Devices: created, or updated with the cells given (kind, label, pairing).
  const devices: Array<{ op: DirectoryOp; row: number }> = [];
  for (const r of rows) {
    const c = r.cells;
    const id = c.device_id;
    if (id === undefined) {
      const any = [
        'device_kind',
        'device_label',
        'zigbee_gateway',
        'zigbee_friendly_name',
        'gateway_base_topic',
      ].some((col) => c[col as CsvColumn] !== undefined);
      if (any) problems.push(csvProblem(r.n, 'device_id', 'problem.required'));
      continue;
    }
    const stored = dir.deviceRecord(id);
    const fields: Record<string, unknown> = stored
      ? {
          id,
          kind: stored.kind,
          ...(stored.label ? { label: stored.label } : {}),
          ...(stored.zigbee ? { zigbee: stored.zigbee } : {}),
          ...(stored.baseTopic ? { baseTopic: stored.baseTopic } : {}),
        }
      : { id };
    if (c.device_kind !== undefined) fields.kind = c.device_kind;
    if (c.device_label !== undefined) fields.label = c.device_label;
    if (c.gateway_base_topic !== undefined) fields.baseTopic = c.gateway_base_topic;
    if (c.zigbee_gateway !== undefined || c.zigbee_friendly_name !== undefined)
      fields.zigbee = { gateway: c.zigbee_gateway, friendlyName: c.zigbee_friendly_name };
    const d = deviceCreateSchema.safeParse(fields);
    if (!d.success) {
      for (const p of inputProblems(d.error.issues))
        problems.push({ ...p, row: r.n, field: DEVICE_COLUMNS[p.field] ?? 'device_id' });
      continue;
    }
    const op: DirectoryOp = {
      op: 'device.put',
      mode: stored ? 'update' : 'create',
      device: { ...(d.data as DeviceFields), homeId },
    };
    if (!stored) op.secretHash = null; // made with the installer sheet (provisioning)
    devices.push({ op, row: r.n });
  }
  const valid = problems.length === before && parsed.success;
  if (valid && existing) plan.homes.updated++;
  else if (valid) plan.homes.created++;
  if (valid)
    for (const { op } of devices) {
      if ((op as { mode: string }).mode === 'create') plan.devices.created++;
      else plan.devices.updated++;
    }

  // A paired device is checked against its gateway: gateways first.
  const ordered = [
    ...devices.filter((x) => (x.op as { device: DeviceFields }).device.kind === 'gateway'),
    ...devices.filter((x) => (x.op as { device: DeviceFields }).device.kind !== 'gateway'),
  ];
  const home = (parsed.success ? parsed.data : raw) as HomeRecord;
  const homeRows: Record<string, number> = {};
  if (grid) homeRows.grid = grid.row;
  if (address) homeRows.address = address.row;
  for (const [i, row] of residentRow) homeRows[`residents.${i}`] = row;
  const change: PlannedChange = {
    homeId,
    ops: [{ op: 'home.put', mode: existing ? 'update' : 'create', home }, ...ordered.map((x) => x.op)],
    rows: [first, ...ordered.map((x) => x.row)],
    homeRows,
  };
  return { change, valid };
}

function yesNo(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'y', '是'].includes(s)) return true;
  if (['0', 'false', 'no', 'n', '否'].includes(s)) return false;
  return undefined;
}
