import { request as httpRequest } from 'node:http';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MAX_IMPORT_ROWS } from '../../hub/src/http/routes/admin-import-routes.js';
import { stateDigest } from '../../hub/src/store/state-digest.js';
import { login, startHub, type TestHub } from '../helpers/hub.js';

/** CSV import and export (PROTOCOL.md §5): all or nothing, a dry run listing every problem by row and column. */
let t: TestHub;
let admin: string;

beforeAll(async () => {
  t = await startHub();
  admin = await login(t.httpUrl, 'admin1');
});
afterAll(async () => {
  await t.stop();
});

type Problem = { row: number; field: string; code: string; message: string };
type ImportAnswer = {
  dryRun?: boolean;
  created?: number;
  updated?: number;
  homes?: { created: number; updated: number };
  devices?: { created: number; updated: number };
  problems?: Problem[];
  error?: { code: string; message: string; problems?: Problem[] };
};

async function upload(
  csv: string | Buffer,
  dryRun: boolean,
  lang?: string,
): Promise<{ status: number; body: ImportAnswer }> {
  const r = await fetch(`${t.httpUrl}/api/v1/import${dryRun ? '?dryRun=1' : ''}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${admin}`,
      'content-type': 'text/csv; charset=utf-8',
      ...(lang ? { 'accept-language': lang } : {}),
    },
    body: csv,
  });
  return { status: r.status, body: (await r.json()) as ImportAnswer };
}

const dirDigest = () => stateDigest(t.hub.store.db, 0, 1).parts.directory;

const GOOD = [
  'home_id,address,grid,resident_id,resident_name,resident_birth_year,resident_phone,resident_wandering_risk,contact_name,contact_relation,contact_phone,contact_email,contact_notify,device_id,device_kind,device_label,zigbee_gateway,zigbee_friendly_name,gateway_base_topic',
  'c1,Wenting Lane 40-101,g1,rc1,Zhang San,1939,+86 138 1111 0001,yes,Zhang Er,family,+86 138 1111 0002,er@example.org,email|sms,c1-sos,sos_button,Pendant,,,',
  'c1,,,,,,,,Grid Worker Li,grid_worker,+86 138 1111 0003,,,c1-gw,gateway,Bridge,,,z2m-c1',
  'c1,,,,,,,,,,,,,c1-door,door_sensor,Front door,c1-gw,front_door,',
  'c2,"Wenting Lane 41-202, back building",g2,rc2,李四,1945,,no,,,,,,c2-sos,sos_button,,,,',
].join('\n');

describe('CSV import', () => {
  it('a dry run counts and changes nothing; the import then adds every home and device at once, devices waiting for their secret', async () => {
    const before = dirDigest();
    const dry = await upload(GOOD, true);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, created: 6, updated: 0, problems: [] });
    expect(dirDigest()).toBe(before);
    const real = await upload(GOOD, false);
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({
      dryRun: false,
      homes: { created: 2, updated: 0 },
      devices: { created: 4, updated: 0 },
    });
    const c1 = t.hub.directory.home('c1');
    expect(c1?.residents[0]).toMatchObject({
      name: 'Zhang San',
      birthYear: 1939,
      phone: '+86 138 1111 0001',
      wanderingRisk: true,
    });
    expect(c1?.contacts.map((c) => [c.name, c.notify])).toEqual([
      ['Zhang Er', ['email', 'sms']],
      ['Grid Worker Li', []],
    ]);
    expect(t.hub.directory.home('c2')?.address).toBe('Wenting Lane 41-202, back building');
    expect(t.hub.directory.zigbeeDevice('c1-gw', 'front_door')?.device.id).toBe('c1-door');
    // Imported devices have no secret until the installer sheet makes one: refused until then.
    const refused = await mqtt
      .connectAsync(t.mqttUrl, {
        clientId: 'c1-sos',
        username: 'c1-sos',
        password: 'anything',
        reconnectPeriod: 0,
      })
      .then(
        (c) => c.endAsync().then(() => false),
        () => true,
      );
    expect(refused).toBe(true);
  });

  it('a file exported and imported again changes nothing (CSV, with a formula-looking cell kept as text)', async () => {
    await fetch(`${t.httpUrl}/api/v1/homes/c2`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ address: '=HYPERLINK("http://evil")' }),
    });
    const exported = await fetch(`${t.httpUrl}/api/v1/export`, {
      headers: { authorization: `Bearer ${admin}`, accept: 'text/csv' },
    });
    expect(exported.headers.get('content-type')).toContain('text/csv');
    const csv = await exported.text();
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(csv).not.toMatch(/scrypt|secret/i);
    const before = dirDigest();
    const again = await upload(csv, false);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(0);
    expect(t.hub.directory.home('c2')?.address).toBe('=HYPERLINK("http://evil")');
    // Every home updated to what it was: the records are the same (their change times moved on).
    const rows = (sql: string) => t.hub.store.db.prepare(sql).all();
    expect(rows('SELECT data FROM dir_homes ORDER BY id')).toHaveLength(t.hub.directory.homes().length);
    expect(dirDigest()).not.toBe(before);
    expect(again.body.homes?.updated).toBe(t.hub.directory.homes().length);
  });

  it('the export as JSON and YAML carries no secret or hash', async () => {
    const json = await fetch(`${t.httpUrl}/api/v1/export`, { headers: { authorization: `Bearer ${admin}` } });
    const body = await json.text();
    expect(JSON.parse(body).homes.length).toBeGreaterThan(3);
    expect(body).not.toMatch(/scrypt|secretHash|passwordHash|"secret"/);
    const yaml = await fetch(`${t.httpUrl}/api/v1/export`, {
      headers: { authorization: `Bearer ${admin}`, accept: 'application/yaml' },
    });
    const doc = parseYaml(await yaml.text()) as {
      homes: Array<{ id: string }>;
      staff: Array<{ id: string }>;
    };
    expect(doc.homes.map((h) => h.id)).toContain('c1');
    expect(doc.staff.map((s) => s.id)).toContain('admin1');
    expect(JSON.stringify(doc)).not.toMatch(/scrypt|Hash/);
  });

  it('a CSV with a wrong column: refused with the column named, dry run or not, nothing created', async () => {
    const before = dirDigest();
    const csv = 'not,the,right,columns\n1,2,3,4\n';
    const dry = await upload(csv, true);
    expect(dry.status).toBe(200);
    expect(dry.body.created).toBe(0);
    expect(dry.body.problems?.map((p) => [p.row, p.field, p.code])).toEqual([
      [1, 'not', 'HUB_ERR_BAD_REQUEST'],
      [1, 'the', 'HUB_ERR_BAD_REQUEST'],
      [1, 'right', 'HUB_ERR_BAD_REQUEST'],
      [1, 'columns', 'HUB_ERR_BAD_REQUEST'],
      [1, 'home_id', 'HUB_ERR_BAD_REQUEST'],
    ]);
    const real = await upload(csv, false);
    expect(real.status).toBe(400);
    expect(real.body.error?.code).toBe('HUB_ERR_IMPORT_INVALID');
    expect(real.body.error?.problems?.[4]?.message).toBe('the column home_id is missing');
    expect(dirDigest()).toBe(before);
  });

  it('every problem of a file, by row and column, coded, in the caller’s language; none of the file applied', async () => {
    const before = dirDigest();
    const csv = [
      'home_id,address,grid,resident_id,resident_name,resident_birth_year,resident_phone,device_id,device_kind,zigbee_gateway,zigbee_friendly_name',
      'd1,Lane 1,g1,rd1,Wang,1940,,d1-sos,sos_button,,', // fine on its own
      'd2,Lane 2,g404,rd2,Zhao,19x0,call me,d2-sos,sos_button,,', // unknown grid, bad year, bad phone
      'd3,Lane 3,g1,rd3,Qian,1941,,d1-sos,sos_button,,', // device id used by d1 above
      'd3,Lane 3b,,,,,,d3-door,door_sensor,c1-gw,door', // address differs; another home's gateway
      'd4,Lane 4,g1,r1,Sun,1942,,d4-sos,sos_button,,', // resident r1 lives in h1
      'h1,,,,,,,h2-sos,door_sensor,,', // h2-sos belongs to h2
      ',Lane 5,g1,,,,,,,,', // no home id
    ].join('\n');
    const dry = await upload(csv, true, 'en');
    const got = dry.body.problems?.map((p) => [p.row, p.field, p.code]);
    expect(got).toEqual(
      expect.arrayContaining([
        [3, 'grid', 'HUB_ERR_UNKNOWN_GRID'],
        [3, 'resident_birth_year', 'HUB_ERR_BAD_REQUEST'],
        [3, 'resident_phone', 'HUB_ERR_BAD_REQUEST'],
        [4, 'device_id', 'HUB_ERR_DUPLICATE_ID'],
        [5, 'address', 'HUB_ERR_BAD_REQUEST'],
        [5, 'zigbee_gateway', 'HUB_ERR_GATEWAY_MISMATCH'],
        [6, 'resident_id', 'HUB_ERR_DUPLICATE_ID'],
        [7, 'home_id', 'HUB_ERR_BAD_REQUEST'],
        [8, 'home_id', 'HUB_ERR_BAD_REQUEST'],
      ]),
    );
    // Each problem once, where it is: h1 keeps its own resident r1 (row 7 is only about h2-sos).
    expect(got).toHaveLength(9);
    expect(dry.body.problems?.find((p) => p.row === 3 && p.field === 'resident_birth_year')?.message).toBe(
      'must be a whole number',
    );
    const zh = await upload(csv, true, 'zh-CN');
    expect(zh.body.problems?.find((p) => p.field === 'grid')?.message).toBe('没有网格 g404：请先添加网格');
    const real = await upload(csv, false);
    expect(real.status).toBe(400);
    expect(real.body.error?.code).toBe('HUB_ERR_IMPORT_INVALID');
    expect(t.hub.directory.home('d1')).toBeUndefined();
    expect(dirDigest()).toBe(before);
  });

  it('a device paired with another home’s gateway is named by row and column', async () => {
    const csv = [
      'home_id,address,grid,device_id,device_kind,zigbee_gateway,zigbee_friendly_name',
      'e1,Lane 9,g1,e1-door,door_sensor,c1-gw,door',
    ].join('\n');
    const dry = await upload(csv, true);
    expect(dry.body.problems?.map((p) => [p.row, p.field, p.code])).toEqual([
      [2, 'zigbee_gateway', 'HUB_ERR_GATEWAY_MISMATCH'],
    ]);
  });

  it('a file that is not UTF-8, or not CSV, is a coded problem, not a crash', async () => {
    const gbk = Buffer.from([0x68, 0x6f, 0x6d, 0x65, 0x5f, 0x69, 0x64, 0x0a, 0xc0, 0xee, 0xcb, 0xc4, 0x0a]);
    expect((await upload(gbk, true)).body.problems?.[0]?.message).toMatch(/not UTF-8/);
    const broken = 'home_id,address\n"unterminated,x\n';
    expect((await upload(broken, true)).body.problems?.[0]?.field).toBe('');
    expect((await upload('', true)).body.problems?.[0]?.message).toMatch(/no rows/);
  });

  it('more rows than one import may apply at once: a coded 413 naming the limit, nothing parsed or changed; the limit itself imports', async () => {
    // An import is one unit of work: the hub reads no device message while it runs (issue 18).
    const rows = (n: number, from: number) =>
      Array.from(
        { length: n },
        (_, i) => `L${from + i},Limit Lane ${from + i},g1,L${from + i}-sos,sos_button`,
      );
    const header = 'home_id,address,grid,device_id,device_kind';
    const before = dirDigest();
    const over = await upload([header, ...rows(MAX_IMPORT_ROWS + 1, 0)].join('\n'), true);
    expect(over.status).toBe(413);
    expect(over.body.error?.code).toBe('HUB_ERR_IMPORT_TOO_LARGE');
    expect(over.body.error?.message).toContain(
      `at most ${MAX_IMPORT_ROWS} rows (this file has ${MAX_IMPORT_ROWS + 1})`,
    );
    expect(over.body.error?.message).toContain('carehub import');
    expect(dirDigest()).toBe(before);
    const whole = await upload(`${[header, ...rows(MAX_IMPORT_ROWS, 0)].join('\n')}\n`, false);
    expect(whole.status).toBe(200);
    expect(whole.body.homes?.created).toBe(MAX_IMPORT_ROWS);
  });

  it('a 50 MB upload is refused with a coded 413 before it is read, and the hub carries on', async () => {
    const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${t.httpUrl}/api/v1/import?dryRun=1`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${admin}`,
            'content-type': 'text/csv',
            'content-length': String(50 * 1024 * 1024),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // Only the first megabyte is sent: the answer must not wait for the rest.
      req.write(Buffer.alloc(1024 * 1024, 0x61));
    });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error.code).toBe('HUB_ERR_PAYLOAD_TOO_LARGE');
    // Chunked (no Content-Length): cut off at the limit.
    const chunks = async function* () {
      for (let i = 0; i < 50; i++) yield Buffer.alloc(1024 * 1024, 0x62);
    };
    const chunked = await fetch(`${t.httpUrl}/api/v1/import?dryRun=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: ReadableStream.from(chunks()),
      duplex: 'half',
    } as RequestInit).catch((err: Error) => ({
      status: 0,
      json: async () => ({ error: { code: err.message } }),
    }));
    if (chunked.status !== 0) {
      expect(chunked.status).toBe(413);
      expect(((await chunked.json()) as ImportAnswer).error?.code).toBe('HUB_ERR_PAYLOAD_TOO_LARGE');
    }
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  });

  it('JSON is not a CSV import, and a duty user cannot import or export', async () => {
    const json = await fetch(`${t.httpUrl}/api/v1/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    const duty = await login(t.httpUrl, 'duty1');
    const r = await fetch(`${t.httpUrl}/api/v1/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${duty}`, 'content-type': 'text/csv' },
      body: GOOD,
    });
    expect(r.status).toBe(403);
    const e = await fetch(`${t.httpUrl}/api/v1/export`, { headers: { authorization: `Bearer ${duty}` } });
    expect(e.status).toBe(403);
  });
});
