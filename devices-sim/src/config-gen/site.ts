import type { DeviceKind } from '../../../hub/src/config/schema.js';

export interface SiteDevice {
  id: string;
  kind: Exclude<DeviceKind, 'gateway'>;
}

export interface SiteHome {
  id: string;
  grid: string;
  address: string;
  resident: { id: string; name: string; birthYear: number; wanderingRisk: boolean };
  devices: SiteDevice[];
}

export interface SiteStaff {
  id: string;
  name: string;
  role: 'duty' | 'supervisor' | 'admin';
  grids?: string[];
  passwordHash: string;
}

export interface SiteSpec {
  name: string;
  timezone: string;
  homes: SiteHome[];
  /** One secret for every device of the site (a generated, demo-only configuration). */
  deviceSecret: string;
  deviceSecretHash: string;
  staff: SiteStaff[];
  dataDir?: string;
}

const q = (s: string) => JSON.stringify(s);

/** The generated site as a raw configuration object (what the YAML file parses to). */
export function siteConfig(spec: SiteSpec): Record<string, unknown> {
  return {
    demo: true,
    site: { name: spec.name, timezone: spec.timezone, locale: 'en' },
    ...(spec.dataDir ? { dataDir: spec.dataDir } : {}),
    homes: spec.homes.map((h) => ({
      id: h.id,
      address: h.address,
      grid: h.grid,
      residents: [{ ...h.resident }],
      devices: h.devices.map((d) => ({
        id: d.id,
        kind: d.kind,
        secretHash: spec.deviceSecretHash,
        demoSecret: spec.deviceSecret,
      })),
    })),
    staff: spec.staff.map((s) => ({ ...s, ...(s.grids ? { grids: [...s.grids] } : {}) })),
  };
}

/**
 * The same site as YAML text, written line by line with one flow mapping per device: tens of
 * thousands of devices stay a compact file that the hub loads in seconds.
 */
export function siteYaml(spec: SiteSpec, header: readonly string[]): string {
  const out: string[] = [
    ...header.map((l) => `# ${l}`),
    'demo: true',
    `site: { name: ${q(spec.name)}, timezone: ${q(spec.timezone)}, locale: en }`,
  ];
  if (spec.dataDir) out.push(`dataDir: ${q(spec.dataDir)}`);
  out.push('homes:');
  for (const h of spec.homes) {
    const r = h.resident;
    out.push(
      `  - id: ${h.id}`,
      `    address: ${q(h.address)}`,
      `    grid: ${h.grid}`,
      `    residents: [{ id: ${r.id}, name: ${q(r.name)}, birthYear: ${r.birthYear}, wanderingRisk: ${r.wanderingRisk} }]`,
      '    devices:',
    );
    for (const d of h.devices) {
      out.push(
        `      - { id: ${d.id}, kind: ${d.kind}, secretHash: ${q(spec.deviceSecretHash)}, demoSecret: ${q(spec.deviceSecret)} }`,
      );
    }
  }
  out.push('staff:');
  for (const s of spec.staff) {
    const grids = s.grids ? `, grids: [${s.grids.join(', ')}]` : '';
    out.push(
      `  - { id: ${s.id}, name: ${q(s.name)}, role: ${s.role}${grids}, passwordHash: ${q(s.passwordHash)} }`,
    );
  }
  return `${out.join('\n')}\n`;
}
