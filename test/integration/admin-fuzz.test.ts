import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortedKeys } from '../../hub/src/core/directory-redact.js';
import { stateDigest } from '../../hub/src/store/state-digest.js';
import { login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Property tests over the admin API's input surfaces (issue 18): generated JSON bodies on every
 * admin endpoint, and generated CSV files on the import. Whatever comes in, the hub stays up,
 * answers 2xx or a coded error, and keeps nothing of a refused change: the directory's tables are
 * as before, and the in-memory directory is always the store's. Bounded for CI
 * (CAREHUB_ADMIN_FUZZ_RUNS, default 150 per property).
 */
const RUNS = Number(process.env.CAREHUB_ADMIN_FUZZ_RUNS ?? 150);
let t: TestHub;
let admin: string;

beforeAll(async () => {
  t = await startHub();
  admin = await login(t.httpUrl, 'admin1');
});
afterAll(async () => {
  await t.stop();
});

const dirDigest = () => stateDigest(t.hub.store.db, 0, 1).parts.directory;

/** The in-memory read model and the tables hold the same directory. */
function memoryIsStore(): void {
  const stored = t.hub.store.directory.loadAll();
  const memory = t.hub.directory.data();
  const norm = (d: typeof stored) =>
    sortedKeys({
      grids: [...d.grids].sort((a, b) => a.id.localeCompare(b.id)),
      homes: [...d.homes].sort((a, b) => a.id.localeCompare(b.id)),
      devices: [...d.devices].sort((a, b) => a.id.localeCompare(b.id)),
      staff: [...d.staff].sort((a, b) => a.id.localeCompare(b.id)),
    });
  expect(norm(memory)).toEqual(norm(stored));
}

async function send(method: string, path: string, body: string | undefined, type = 'application/json') {
  const r = await fetch(`${t.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': type },
    ...(body === undefined ? {} : { body }),
  });
  const text = await r.text();
  return { status: r.status, text };
}

/** A refusal is a coded error; a refused change leaves the directory as it was. */
async function checkAnswer(before: string, status: number, text: string): Promise<void> {
  if (status >= 200 && status < 300) return;
  expect(status, text).toBeGreaterThanOrEqual(400);
  expect(status, text).toBeLessThan(500);
  expect(JSON.parse(text).error.code).toMatch(/^HUB_ERR_[A-Z_]+$/);
  expect(dirDigest()).toBe(before);
}

const id = fc.constantFrom('h1', 'h2', 'f1', 'f2', 'f3', 'bad id', '', 'g1', 'h1-sos', 'x'.repeat(70));
const grid = fc.constantFrom('g1', 'g2', 'g404', 'fg', 42);
const person = fc.record(
  {
    id: fc.constantFrom('r1', 'r2', 'fr1', 'fr2', 'fr3'),
    name: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('')),
    birthYear: fc.oneof(fc.integer({ min: 1850, max: 2200 }), fc.string()),
    phone: fc.oneof(fc.constant('+86 138 0000 0000'), fc.string({ maxLength: 40 })),
    wanderingRisk: fc.oneof(fc.boolean(), fc.string()),
  },
  { requiredKeys: ['id'] },
);
const contact = fc.record(
  {
    name: fc.string({ maxLength: 30 }),
    relation: fc.constantFrom('family', 'grid_worker', 'neighbour', 'stranger'),
    email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 20 })),
    notify: fc.array(fc.constantFrom('email', 'sms', 'wecom', 'pigeon'), { maxLength: 4 }),
  },
  { requiredKeys: ['name', 'relation'] },
);
const homeBody = fc.record(
  {
    id,
    address: fc.string({ maxLength: 60 }),
    grid,
    timezone: fc.constantFrom('Asia/Shanghai', 'Mars/Olympus', 'UTC'),
    residents: fc.array(person, { maxLength: 3 }),
    contacts: fc.array(contact, { maxLength: 3 }),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);
const deviceBody = fc.record(
  {
    id: fc.constantFrom('f1-sos', 'f1-gw', 'f2-door', 'h1-sos', 'h3-sos', 'bad/id'),
    kind: fc.constantFrom('sos_button', 'door_sensor', 'gateway', 'toaster'),
    label: fc.string({ maxLength: 30 }),
    zigbee: fc.record({
      gateway: fc.constantFrom('f1-gw', 'h1-sos', 'none'),
      friendlyName: fc.string({ maxLength: 10 }),
    }),
    baseTopic: fc.constantFrom('z2m', 'a/#', ''),
  },
  { requiredKeys: [] },
);
const staffBody = fc.record(
  {
    id: fc.constantFrom('fs1', 'fs2', 'admin1', 'duty1', ''),
    name: fc.string({ maxLength: 30 }),
    role: fc.constantFrom('duty', 'supervisor', 'admin', 'king'),
    grids: fc.array(grid, { maxLength: 3 }),
    password: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);
const body = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 4, arbitrary: arb.map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
  );

const request = fc.oneof(
  body(homeBody).map((b) => ['POST', '/homes', b] as const),
  fc
    .tuple(fc.constantFrom('h1', 'h2', 'f1', 'f2', 'nope'), body(homeBody))
    .map(([h, b]) => ['PATCH', `/homes/${h}`, b] as const),
  fc
    .tuple(fc.constantFrom('h1', 'h2', 'f1', 'f2', 'nope'), fc.constantFrom('', '?force=1'))
    .map(([h, q]) => ['DELETE', `/homes/${h}${q}`, undefined] as const),
  fc
    .tuple(fc.constantFrom('h1', 'f1', 'f2', 'nope'), body(deviceBody))
    .map(([h, b]) => ['POST', `/homes/${h}/devices`, b] as const),
  fc
    .tuple(fc.constantFrom('f1-sos', 'f1-gw', 'h1-door', 'nope'), body(deviceBody))
    .map(([d, b]) => ['PATCH', `/devices/${d}`, b] as const),
  fc
    .constantFrom('f1-sos', 'f1-gw', 'h2-door', 'nope')
    .map((d) => ['POST', `/devices/${d}/secret`, undefined] as const),
  fc
    .constantFrom('f1-sos', 'f1-gw', 'f2-door', 'nope')
    .map((d) => ['DELETE', `/devices/${d}`, undefined] as const),
  body(staffBody).map((b) => ['POST', '/staff', b] as const),
  fc
    .tuple(fc.constantFrom('fs1', 'duty1', 'admin1'), body(staffBody))
    .map(([s, b]) => ['PATCH', `/staff/${s}`, b] as const),
  fc
    .constantFrom('fs1', 'fs2', 'supervisor1', 'admin1')
    .map((s) => ['DELETE', `/staff/${s}`, undefined] as const),
  fc
    .record({ id: fc.constantFrom('fg', 'g1', 'bad id'), name: fc.string({ maxLength: 20 }) })
    .map((g) => ['POST', '/grids', JSON.stringify(g)] as const),
  fc.constantFrom('fg', 'g1', 'g2').map((g) => ['DELETE', `/grids/${g}`, undefined] as const),
);

describe('admin input surfaces under generated input', () => {
  it('every admin endpoint: 2xx or a coded 4xx, nothing of a refusal kept, memory and store agree', {
    timeout: 300_000,
  }, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(request, async ([method, path, b]) => {
        const before = dirDigest();
        const { status, text } = await send(method, path, b);
        if (status < 300) accepted++;
        await checkAnswer(before, status, text);
        memoryIsStore();
      }),
      { numRuns: RUNS },
    );
    // The generators reach both sides: some changes go through, most are refused.
    console.info(`admin fuzz: ${accepted} of ${RUNS} requests accepted`);
    expect(accepted).toBeGreaterThan(0);
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  });

  it('the CSV import: any file is imported whole or refused whole with problems by row', {
    timeout: 300_000,
  }, async () => {
    const header = fc.constantFrom(
      'home_id,address,grid,resident_id,resident_name,device_id,device_kind',
      'home_id,address,grid,device_id,device_kind,zigbee_gateway,zigbee_friendly_name,gateway_base_topic',
      'home_id,contact_name,contact_relation,contact_notify',
      'home_id,bogus',
      '',
    );
    const cell = fc.oneof(
      fc.constantFrom(
        'q1',
        'q2',
        'h1',
        'g1',
        'g2',
        'gateway',
        'sos_button',
        'door_sensor',
        'q1-gw',
        'family',
        'email|sms',
        '',
      ),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('"quoted, comma"', '"unterminated', '=1+1', "'+86 1", '\u0000', '李四'),
    );
    const noisy = fc
      .tuple(
        header,
        fc.array(fc.array(cell, { minLength: 1, maxLength: 9 }), { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n'),
      )
      .map(([h, rows, eol]) => [h, ...rows.map((r) => r.join(','))].join(eol));
    // Files that mostly hold together, so some imports go through (and some collide with earlier ones).
    const rarely = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: odd });
    const plausibleRow = fc
      .tuple(
        fc.constantFrom('q1', 'q2', 'q3', 'q4'),
        rarely(fc.constant(true), fc.constant(false)),
        rarely(fc.constant('g1'), fc.constant('g404')),
        rarely(fc.constantFrom('own', ''), fc.constant('r1')),
        fc.constantFrom('Wang', '李四'),
        rarely(fc.constantFrom('sos', 'door'), fc.constant('h1-sos')),
        rarely(fc.constantFrom('sos_button', 'door_sensor'), fc.constant('toaster')),
      )
      .map(([home, addressed, grid, resident, name, device, kind]) =>
        [
          home,
          addressed ? `Lane ${home}` : '',
          grid,
          resident === 'own' ? `r${home}` : resident,
          resident === '' ? '' : name,
          device.includes('-') ? device : `${home}-${device}`,
          kind,
        ].join(','),
      );
    const plausible = fc
      .array(plausibleRow, { minLength: 1, maxLength: 5 })
      .map((rows) =>
        ['home_id,address,grid,resident_id,resident_name,device_id,device_kind', ...rows].join('\n'),
      );
    const csv = fc.oneof(noisy, plausible);
    let imported = 0;
    await fc.assert(
      fc.asyncProperty(csv, fc.boolean(), async (file, dryRun) => {
        const before = dirDigest();
        const { status, text } = await send('POST', `/import${dryRun ? '?dryRun=1' : ''}`, file, 'text/csv');
        const answer = JSON.parse(text);
        if (dryRun) {
          expect(status, text).toBe(200);
          expect(Array.isArray(answer.problems)).toBe(true);
          for (const p of answer.problems) {
            expect(typeof p.row).toBe('number');
            expect(p.code).toMatch(/^HUB_ERR_/);
          }
          expect(dirDigest()).toBe(before);
        } else {
          if (status === 200) imported++;
          await checkAnswer(before, status, text);
          if (status >= 400 && answer.error.code === 'HUB_ERR_IMPORT_INVALID')
            expect(answer.error.problems.length).toBeGreaterThan(0);
        }
        memoryIsStore();
      }),
      { numRuns: RUNS },
    );
    console.info(`admin fuzz: ${imported} generated files imported`);
    expect(imported).toBeGreaterThan(0);
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  });
});
