import { stringify as csvStringify } from 'csv-stringify/sync';
import { stringify as yamlStringify } from 'yaml';
import type { Directory } from './directory.js';
import { CSV_COLUMNS, type CsvColumn } from './directory-csv.js';

/**
 * The whole directory for the records, without any secret or hash (docs/api.md, "Import and
 * export"). As JSON or YAML: grids, homes with their devices, staff. As CSV: the import's columns,
 * one row per device (residents and contacts of a home on its rows), so a file exported, edited in
 * a spreadsheet and imported again changes only what was edited.
 */
export function directoryDocument(dir: Directory) {
  return {
    grids: dir.grids().map((g) => ({ id: g.id, name: g.name })),
    homes: dir.homes().map(({ devices, ...home }) => ({
      ...home,
      devices: devices.map((d) => ({
        id: d.id,
        kind: d.kind,
        ...(d.label ? { label: d.label } : {}),
        ...(d.zigbee ? { zigbee: d.zigbee } : {}),
        ...(d.baseTopic ? { baseTopic: d.baseTopic } : {}),
      })),
    })),
    staff: dir.allStaff().map((s) => ({
      id: s.id,
      name: s.name,
      role: s.role,
      grids: s.grids,
      ...(s.locale ? { locale: s.locale } : {}),
    })),
  };
}

export function directoryYaml(dir: Directory): string {
  return yamlStringify(directoryDocument(dir));
}

/** A cell a spreadsheet would run as a formula is kept as text (a leading '; the import removes it). */
const safe = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
};

export function directoryCsv(dir: Directory): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const home of dir.homes()) {
    const n = Math.max(1, home.devices.length, home.residents.length, home.contacts.length);
    for (let i = 0; i < n; i++) {
      const r = home.residents[i];
      const c = home.contacts[i];
      const d = home.devices[i];
      const cells: Partial<Record<CsvColumn, unknown>> = {
        home_id: home.id,
        address: home.address,
        grid: home.grid,
        timezone: home.timezone,
      };
      if (r)
        Object.assign(cells, {
          resident_id: r.id,
          resident_name: r.name,
          resident_birth_year: r.birthYear,
          resident_language: r.language,
          resident_phone: r.phone,
          resident_wandering_risk: r.wanderingRisk ? 'yes' : 'no',
          resident_notes: r.notes,
        });
      if (c)
        Object.assign(cells, {
          contact_name: c.name,
          contact_relation: c.relation,
          contact_phone: c.phone,
          contact_email: c.email,
          contact_language: c.language,
          contact_notify: c.notify.join('|'),
        });
      if (d)
        Object.assign(cells, {
          device_id: d.id,
          device_kind: d.kind,
          device_label: d.label,
          zigbee_gateway: d.zigbee?.gateway,
          zigbee_friendly_name: d.zigbee?.friendlyName,
          gateway_base_topic: d.baseTopic,
        });
      rows.push(CSV_COLUMNS.map((col) => safe(cells[col])));
    }
  }
  return csvStringify(rows);
}
