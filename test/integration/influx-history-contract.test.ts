import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hub/src/clock/clock.js';
import { ErrorCodes } from '../../hub/src/errors.js';
import { createLogger } from '../../hub/src/log.js';
import { Metrics } from '../../hub/src/metrics.js';
import type { HistoryQuery } from '../../hub/src/model/history.js';
import { Directory } from '../../hub/src/site/directory.js';
import { SqliteHistory } from '../../hub/src/store/history-sqlite.js';
import { type Db, openDatabase } from '../../hub/src/store/sqlite-db.js';
import { InfluxHistory } from '../../hub/src/timeseries/history-influx.js';
import { createTimeSeries, purgeResident } from '../../hub/src/timeseries/index.js';
import { Influx1Backend } from '../../hub/src/timeseries/influx1-backend.js';
import { Influx2Backend } from '../../hub/src/timeseries/influx2-backend.js';
import { DEFAULT_SHIPPER_OPTIONS, Shipper } from '../../hub/src/timeseries/shipper.js';
import { storeMetrics } from '../../hub/src/timeseries/store-metrics.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub, tempDir } from '../helpers/hub.js';
import { type Influxd, startInfluxd } from '../helpers/influxd.js';
import { Influx2Fake } from './influx2-fake.js';

/**
 * History contract: the same questions asked of the hub's SQLite, of InfluxDB 1.x (real influxd,
 * fed by the hub's own shipper) and of InfluxDB 2.x (the local fake, fed from a copy of the same
 * database) give the same answers. The scenario runs on the drill clock through the real broker
 * and HTTP API.
 */
const T0 = Date.parse('2026-11-26T09:00:00.000+08:00');
const log = createLogger('silent');

let influxd: Influxd;
let fake: Influx2Fake;
let hub: TestHub | undefined;
let copyDir: string;
let copyDb: Db;
let influx1: Influx1Backend;
let influx2: Influx2Backend;
let config: TestHub['config'];
const ids: Record<'A' | 'B' | 'C', string> = { A: '', B: '', C: '' };

/** Poll until `fn` returns a truthy value (beforeAll cannot use expect.poll). */
async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function scenario(t: TestHub): Promise<void> {
  const token = await login(t.httpUrl, 'supervisor1');
  const clients: MqttClient[] = [];
  const dev = async (id: string) => {
    const c = await connectDevice(t.mqttUrl, id);
    clients.push(c);
    return c;
  };
  const [door, sos1, smoke1, sos2] = await Promise.all([
    dev('h1-door'),
    dev('h1-sos'),
    dev('h1-smoke'),
    dev('h2-sos'),
  ]);
  const send = (c: MqttClient, id: string, body: Record<string, unknown>) =>
    c.publishAsync(`carehub/v1/devices/${id}/events`, JSON.stringify(body), { qos: 1 });
  const advance = (ms: number) => api(t.httpUrl, token, '/api/v1/clock/advance', { body: { ms } });
  const openAlert = (home: string, kind: string) =>
    waitFor(`${home} ${kind} alert`, async () => {
      const r = await api<{ alerts: Array<{ id: string }> }>(
        t.httpUrl,
        token,
        `/api/v1/alerts?homeId=${home}&kind=${kind}`,
      );
      return r.body.alerts[0]?.id ?? '';
    });

  await send(door!, 'h1-door', { type: 'door.opened', id: 'd1', battery: 64 });
  await send(door!, 'h1-door', { type: 'door.closed', id: 'd2', battery: 63, rssi: -70 });
  await send(sos1!, 'h1-sos', { type: 'sos.pressed', id: 's1' });
  ids.A = await openAlert('h1', 'sos');
  await advance(45_000);
  expect((await api(t.httpUrl, token, `/api/v1/alerts/${ids.A}/ack`, { body: {} })).status).toBe(200); // A: ack 45 s
  await send(smoke1!, 'h1-smoke', { type: 'smoke.detected', id: 'f1' });
  ids.B = await openAlert('h1', 'smoke');
  await advance(200_000); // B escalates at 60 s and 180 s
  expect((await api(t.httpUrl, token, `/api/v1/alerts/${ids.B}/ack`, { body: {} })).status).toBe(200); // B: ack 200 s
  await advance(60_000);
  expect(
    (await api(t.httpUrl, token, `/api/v1/alerts/${ids.B}/resolve`, { body: { outcome: 'genuine' } })).status,
  ).toBe(200); // B: resolve 260 s
  await send(sos2!, 'h2-sos', { type: 'sos.pressed', id: 's2' });
  ids.C = await openAlert('h2', 'sos');
  await advance(30_000);
  expect(
    (await api(t.httpUrl, token, `/api/v1/alerts/${ids.C}/resolve`, { body: { outcome: 'false_alarm' } }))
      .status,
  ).toBe(200); // C: 30 s / 30 s
  await Promise.all(clients.map((c) => c.endAsync()));
}

beforeAll(async () => {
  [influxd, fake] = await Promise.all([startInfluxd(), new Influx2Fake().start()]);
  const raw = {
    ...demoRaw(),
    clock: 'manual',
    influx: { url: influxd.url, database: 'carehub', flushIntervalMs: 100 },
  };
  hub = await startHub({ raw, manualClockStart: T0 });
  config = hub.config;
  await scenario(hub);
  await waitFor('the hub to ship everything', () => {
    const h = hub!.hub.timeSeries!.health();
    return h.reachable && h.backlogRows.journal + h.backlogRows.feed_alert + h.backlogRows.feed_device === 0;
  });
  await hub.stop({ keepData: true });
  // the same data, shipped again by a second shipper to the 2.x fake
  copyDir = tempDir('carehub-history-');
  copyFileSync(join(hub.dataDir, 'hub.db'), join(copyDir, 'hub.db'));
  rmSync(hub.dataDir, { recursive: true, force: true });
  copyDb = openDatabase(copyDir);
  copyDb.exec('DELETE FROM ts_cursor');
  influx1 = new Influx1Backend({ url: influxd.url, database: 'carehub' });
  influx2 = new Influx2Backend({ url: fake.url, org: fake.org, bucket: fake.bucket, token: fake.token });
  const shipper = new Shipper(
    {
      db: copyDb,
      backend: influx2,
      kindOf: (id) => new Directory(config).device(id)?.device.kind,
      metrics: storeMetrics(new Registry()),
      log,
      now: () => T0,
    },
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      batchSize: 7,
      flushIntervalMs: 50,
      maxBacklogRows: 1_000_000,
      metricsIntervalMs: 0,
      purgeIntervalMs: 0,
      site: 'test',
    },
  );
  await shipper.flush();
}, 90_000);

afterAll(async () => {
  copyDb?.close();
  if (copyDir) rmSync(copyDir, { recursive: true, force: true });
  await Promise.all([influxd?.destroy(), fake?.stop()]);
});

const range = { fromMs: T0 - 3600_000, toMs: T0 + 3600_000 };

describe.each<[string, () => HistoryQuery]>([
  ['SQLite (the hub’s own tables)', () => new SqliteHistory(copyDb)],
  ['InfluxDB 1.x (real influxd, shipped by the hub)', () => new InfluxHistory(influx1)],
  ['InfluxDB 2.x (local fake, Flux)', () => new InfluxHistory(influx2)],
])('HistoryQuery contract: %s', (_name, make) => {
  it('counts alerts raised per bucket and kind, filtered by home and kind', async () => {
    const h = make();
    expect(await h.alertsOverTime({ ...range, bucketMs: 3600_000 })).toEqual([
      { startMs: T0, kind: 'smoke', count: 1 },
      { startMs: T0, kind: 'sos', count: 2 },
    ]);
    expect(await h.alertsOverTime({ ...range, bucketMs: 60_000, homeIds: ['h2'] })).toEqual([
      { startMs: T0 + 300_000, kind: 'sos', count: 1 },
    ]);
    expect(await h.alertsOverTime({ ...range, bucketMs: 3600_000, kind: 'smoke' })).toEqual([
      { startMs: T0, kind: 'smoke', count: 1 },
    ]);
    expect(
      await h.alertsOverTime({ fromMs: T0 + 3600_000, toMs: T0 + 7200_000, bucketMs: 3600_000 }),
    ).toEqual([]);
  });

  it('lists a device’s events newest first with battery and rssi', async () => {
    const h = make();
    expect(await h.deviceEvents('h1-door', { ...range, limit: 10 })).toEqual([
      { atMs: T0, type: 'door.closed', battery: 63, rssi: -70 },
      { atMs: T0, type: 'door.opened', battery: 64 },
    ]);
    expect(await h.deviceEvents('h1-door', { ...range, limit: 1 })).toEqual([
      { atMs: T0, type: 'door.closed', battery: 63, rssi: -70 },
    ]);
    expect(await h.deviceEvents('h1-sos', { ...range, limit: 10 })).toEqual([
      { atMs: T0, type: 'sos.pressed' },
    ]);
  });

  it('reports response times against the 60 s / 180 s targets, overall and by kind', async () => {
    const r = await make().responseTimes(range);
    expect(r.overall).toEqual({
      alerts: 3,
      acknowledged: 3,
      resolved: 2,
      ackWithin60s: 2,
      ackWithin180s: 2,
      shareWithin60s: 2 / 3,
      shareWithin180s: 2 / 3,
      ackP50: 45,
      ackP90: 200,
      ackP95: 200,
      resolveP50: 30,
      resolveP90: 260,
    });
    expect(Object.keys(r.byKind)).toEqual(['smoke', 'sos']);
    expect(r.byKind.sos).toMatchObject({
      alerts: 2,
      acknowledged: 2,
      ackWithin60s: 2,
      ackP50: 30,
      ackP90: 45,
      resolved: 1,
      resolveP50: 30,
    });
    expect(r.byKind.smoke).toMatchObject({ alerts: 1, ackWithin180s: 0, ackP50: 200, resolveP50: 260 });
    expect((await make().responseTimes({ ...range, homeIds: ['h2'] })).overall).toMatchObject({
      alerts: 1,
      ackP50: 30,
    });
  });
});

describe('Grafana dashboard queries on real InfluxDB 1.x data', () => {
  const dir = join(import.meta.dirname, '..', '..', 'dashboards', 'grafana', 'dashboards');
  const queries = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const walk = (
        ps: Array<{ title: string; targets?: Array<{ query: string }>; panels?: unknown[] }>,
      ): Array<[string, string]> =>
        ps.flatMap((p) => [
          ...(p.targets ?? []).map((t) => [`${f} › ${p.title}`, t.query] as [string, string]),
          ...walk((p.panels ?? []) as typeof ps),
        ]);
      return walk(JSON.parse(readFileSync(join(dir, f), 'utf8')).panels);
    });
  const run = async (q: string) => {
    const text = q
      .replaceAll('$timeFilter', `time >= ${T0 - 86_400_000}ms AND time < ${T0 + 86_400_000}ms`)
      .replaceAll('$__interval', '1m');
    const r = await influxd.query('carehub', text);
    return r.results[0];
  };

  it.each(queries)('%s runs without error', async (_name, q) => {
    const r = await run(q);
    expect(r?.error).toBeUndefined();
  });

  it('answers with the scenario: 1 open alert, 2 sos + 1 smoke that day, 2 of 3 acks within 60 s', async () => {
    const q = (title: RegExp) => queries.find(([n]) => title.test(n))?.[1] ?? '';
    expect((await run(q(/› Open alerts$/)))?.series?.[0]?.values[0]?.[1]).toBe(1);
    const perDay = (await run(q(/Alerts per day by kind/)))?.series ?? [];
    const totals = Object.fromEntries(
      perDay.map((s) => [s.tags?.kind, s.values.reduce((n, v) => n + Number(v[1]), 0)]),
    );
    expect(totals).toEqual({ smoke: 1, sos: 2 });
    const within60 = Number((await run(q(/within 60 s/)))?.series?.[0]?.values[0]?.[1]);
    expect(within60).toBeCloseTo(66.67, 1);
    const battery = (await run(q(/Battery levels/)))?.series ?? [];
    expect(battery.find((s) => s.tags?.device === 'h1-door')?.values[0]?.[1]).toBe(63);
  });
});

describe('purgeResident: a resident’s home data leaves SQLite and InfluxDB', () => {
  it('refuses while the home has an unresolved alert, shows a dry run, then erases home h1 everywhere (1.x)', async () => {
    const count = (table: string) =>
      (copyDb.prepare(`SELECT count(*) AS n FROM ${table} WHERE home_id = 'h1'`).get() as { n: number }).n;
    const journalBefore = count('journal');
    expect(journalBefore).toBeGreaterThan(0);
    await expect(
      purgeResident({ config, db: copyDb, residentId: 'r1', backend: influx1 }),
    ).rejects.toMatchObject({ code: ErrorCodes.PURGE_REFUSED });
    const dry = await purgeResident({ config, db: copyDb, residentId: 'r1', backend: influx1, dryRun: true });
    expect(dry).toMatchObject({
      residentId: 'r1',
      homeId: 'h1',
      dryRun: true,
      unresolvedAlerts: 1,
      influx: 'dry_run',
      sqlite: { journal: journalBefore, alerts: 2 },
    });
    expect(count('journal')).toBe(journalBefore);
    const done = await purgeResident({ config, db: copyDb, residentId: 'r1', backend: influx1, force: true });
    expect(done).toMatchObject({
      homeId: 'h1',
      dryRun: false,
      influx: 'deleted',
      sqlite: { journal: journalBefore, alerts: 2 },
    });
    expect(done.influxMeasurements).toEqual(['device_event', 'device_status', 'alert']);
    expect([count('journal'), count('alerts'), count('feed_log')]).toEqual([0, 0, 0]);
    const left = await influxd.query('carehub', `SELECT count(*) FROM /.*/ WHERE "home" = 'h1'`);
    expect(left.results[0]?.series ?? []).toEqual([]);
    const h2 = await influxd.query('carehub', `SELECT count("alert_id") FROM "alert" WHERE "home" = 'h2'`);
    expect(h2.results[0]?.series?.[0]?.values[0]?.[1]).toBeGreaterThan(0);
    await expect(
      purgeResident({ config, db: copyDb, residentId: 'nobody', backend: influx1 }),
    ).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
  });

  it('erases through the running time-series store too, and queues the delete while the store is down (2.x)', async () => {
    const ts = createTimeSeries({
      config,
      db: copyDb,
      directory: new Directory(config),
      metrics: new Metrics(false),
      log,
      clock: new ManualClock(T0),
      backend: influx2,
    });
    fake.mode = 'unavailable';
    const pending = await ts.purgeResident('r2');
    expect(pending).toMatchObject({ homeId: 'h2', influx: 'pending' });
    expect([...fake.points.values()].some((p) => p.tags.home === 'h2')).toBe(true);
    fake.mode = 'ok';
    ts.start();
    await expect
      .poll(() => [...fake.points.values()].some((p) => p.tags.home === 'h2'), { timeout: 10_000 })
      .toBe(false);
    await ts.stop();
    expect(copyDb.prepare(`SELECT count(*) AS n FROM ts_purge_queue`).get()).toEqual({ n: 0 });
  });
});
