import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MEASUREMENTS, type MeasurementName } from '../../hub/src/timeseries/schema.js';

const ROOT = join(import.meta.dirname, '..', '..', 'dashboards', 'grafana');
const DASHBOARDS = join(ROOT, 'dashboards');

interface Target {
  refId?: string;
  query?: string;
  rawQuery?: boolean;
  alias?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { thresholds?: { steps?: Array<{ value: number | null }> } } };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
const dashboards = files.map((f) => ({
  file: f,
  dash: JSON.parse(readFileSync(join(DASHBOARDS, f), 'utf8')) as Dashboard,
}));
const panels = dashboards.flatMap(({ file, dash }) => flatten(dash.panels).map((panel) => ({ file, panel })));

function flatten(list: Panel[]): Panel[] {
  return list.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
}

const isMeasurement = (m: string): m is MeasurementName => Object.hasOwn(MEASUREMENTS, m);
const fieldsOf = (m: MeasurementName): string[] => Object.keys(MEASUREMENTS[m].fields);
const tagsOf = (m: MeasurementName): readonly string[] => MEASUREMENTS[m].tags;

/**
 * What an InfluxQL query names: measurements (FROM "x"), aliases (AS "x") and every other quoted
 * identifier occurrence (fields and tags; an outer query may also use an inner alias).
 */
function names(query: string): { measurements: string[]; aliases: Set<string>; identifiers: string[] } {
  const measurements: string[] = [];
  const aliases = new Set<string>();
  const identifiers: string[] = [];
  for (const m of query.matchAll(/(FROM\s+|AS\s+)?"([^"]+)"/gi)) {
    const name = m[2] ?? '';
    if (/^FROM/i.test(m[1] ?? '')) measurements.push(name);
    else if (/^AS/i.test(m[1] ?? '')) aliases.add(name);
    else identifiers.push(name);
  }
  return { measurements, aliases, identifiers };
}

describe('Grafana dashboards: every query names what the shipper writes', () => {
  it('has dashboards with panels, unique ids, and the provisioned datasource', () => {
    expect(files.length).toBeGreaterThanOrEqual(1);
    const ds = parse(readFileSync(join(ROOT, 'provisioning', 'datasources', 'carehub.yaml'), 'utf8')) as {
      datasources: Array<{ uid: string; type: string; jsonData: { dbName: string } }>;
    };
    const uid = ds.datasources[0]?.uid;
    expect(ds.datasources[0]?.type).toBe('influxdb');
    for (const { dash } of dashboards) {
      const ids = flatten(dash.panels).map((p) => p.id);
      expect(new Set(ids).size, dash.title).toBe(ids.length);
    }
    const targets = panels.flatMap(({ panel }) => panel.targets ?? []);
    expect(targets.length).toBeGreaterThanOrEqual(10);
    for (const t of targets) expect(t.datasource?.uid).toBe(uid);
    const uids = dashboards.map((d) => d.dash.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it.each(
    panels.flatMap(({ file, panel }) =>
      (panel.targets ?? []).map((t) => [`${file} › ${panel.title} › ${t.refId}`, t] as const),
    ),
  )('%s', (_name, target) => {
    expect(target.rawQuery).toBe(true);
    const query = target.query ?? '';
    const { measurements, aliases, identifiers } = names(query);
    expect(measurements.length, 'names a measurement').toBeGreaterThanOrEqual(1);
    const known = measurements.filter(isMeasurement);
    expect(known, `measurements ${measurements.join(', ')} are written by the shipper`).toEqual(measurements);
    const fields = new Set(known.flatMap(fieldsOf));
    const tags = new Set(known.flatMap((m) => [...tagsOf(m)]));
    for (const id of identifiers) {
      expect(
        fields.has(id) || tags.has(id) || aliases.has(id),
        `"${id}" is a field or tag of ${known.join(', ')}`,
      ).toBe(true);
    }
    expect(
      identifiers.some((id) => fields.has(id)),
      'reads at least one field',
    ).toBe(true);
    for (const m of (target.alias ?? '').matchAll(/\$tag_(\w+)/g)) {
      expect(tags.has(m[1] ?? ''), `alias $tag_${m[1]}`).toBe(true);
      expect(query).toMatch(new RegExp(`GROUP BY[^;]*"${m[1]}"`));
    }
  });

  it('covers open alerts, alerts per day by kind, time to ack vs 60/180 s, devices offline, battery, ingest rate', () => {
    const byTitle = (re: RegExp) => panels.find(({ panel }) => re.test(panel.title))?.panel;
    for (const re of [
      /^Open alerts$/,
      /Alerts per day by kind/,
      /Time to acknowledge/,
      /Devices offline/,
      /Battery levels/,
      /Ingest rate/,
    ]) {
      expect(byTitle(re), String(re)).toBeDefined();
    }
    const ack = byTitle(/Time to acknowledge/);
    const steps = ack?.fieldConfig?.defaults?.thresholds?.steps?.map((s) => s.value);
    expect(steps).toEqual(expect.arrayContaining([60, 180]));
    expect(ack?.targets?.[0]?.query).toMatch(/"seconds_to_ack"/);
    expect(byTitle(/Alerts per day by kind/)?.targets?.[0]?.query).toMatch(
      /GROUP BY time\(1d[^)]*\), "kind"/,
    );
  });

  it('provisions dashboards from the path docker-compose.yml mounts', () => {
    const provider = parse(
      readFileSync(join(ROOT, 'provisioning', 'dashboards', 'provider.yaml'), 'utf8'),
    ) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    const compose = readFileSync(join(ROOT, '..', '..', 'docker-compose.yml'), 'utf8');
    expect(provider.providers[0]?.type).toBe('file');
    expect(compose).toContain(`./dashboards/grafana/dashboards:${provider.providers[0]?.options.path}:ro`);
  });
});
