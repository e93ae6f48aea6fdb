import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type HubError } from '../../hub/src/errors.js';
import { Influx1Backend } from '../../hub/src/timeseries/influx1-backend.js';
import { Influx2Backend } from '../../hub/src/timeseries/influx2-backend.js';
import { rowTimeNs } from '../../hub/src/timeseries/points.js';
import type { TimeSeriesBackend, TsPoint } from '../../hub/src/timeseries/types.js';
import { statusOf } from '../../hub/src/timeseries/write-errors.js';
import { freePort, type Influxd, startInfluxd } from '../helpers/influxd.js';
import { Influx2Fake } from './influx2-fake.js';

/**
 * The TimeSeriesBackend contract, run against InfluxDB 1.x (a real influxd 1.6.7 on a free port)
 * and InfluxDB 2.x (Influx2Fake: a local HTTP server that checks the requests and answers like
 * InfluxDB 2, because no 2.x server can run here).
 */
interface Subject {
  /** A backend on a fresh, initialised database / bucket. */
  fresh(): Promise<TimeSeriesBackend>;
  /** A backend whose database / bucket does not exist. */
  missingTarget(): TimeSeriesBackend;
  /** A backend pointing at a port nobody listens on. */
  unreachable(): Promise<TimeSeriesBackend>;
  /** Write one raw line protocol line to the backend's target, bypassing it (to provoke conflicts). */
  rawWrite(backend: TimeSeriesBackend, line: string): Promise<void>;
}

let influxd: Influxd;
let fake: Influx2Fake;
let dbCounter = 0;
const dbOf = new WeakMap<TimeSeriesBackend, string>();

const influx1: Subject = {
  async fresh() {
    const database = `contract_${++dbCounter}`;
    const b = new Influx1Backend({ url: influxd.url, database });
    await b.init();
    dbOf.set(b, database);
    return b;
  },
  missingTarget: () => new Influx1Backend({ url: influxd.url, database: 'never_created' }),
  unreachable: async () =>
    new Influx1Backend({
      url: `http://127.0.0.1:${await freePort()}`,
      database: 'x',
      requestTimeoutMs: 2000,
    }),
  async rawWrite(b, line) {
    const res = await fetch(`${influxd.url}/write?db=${dbOf.get(b)}&precision=ns`, {
      method: 'POST',
      body: line,
    });
    expect(res.status).toBe(204);
  },
};

const influx2: Subject = {
  async fresh() {
    fake.reset();
    const b = new Influx2Backend({ url: fake.url, org: fake.org, bucket: fake.bucket, token: fake.token });
    await b.init();
    return b;
  },
  missingTarget: () =>
    new Influx2Backend({ url: fake.url, org: fake.org, bucket: 'no-such-bucket', token: fake.token }),
  unreachable: async () =>
    new Influx2Backend({
      url: `http://127.0.0.1:${await freePort()}`,
      org: 'o',
      bucket: 'b',
      token: 't',
      requestTimeoutMs: 2000,
    }),
  async rawWrite(_b, line) {
    const res = await fetch(`${fake.url}/api/v2/write?org=${fake.org}&bucket=${fake.bucket}&precision=ns`, {
      method: 'POST',
      headers: { authorization: `Token ${fake.token}` },
      body: line,
    });
    expect(res.status).toBe(204);
  },
};

beforeAll(async () => {
  [influxd, fake] = await Promise.all([startInfluxd(), new Influx2Fake().start()]);
});
afterAll(async () => {
  await Promise.all([influxd?.destroy(), fake?.stop()]);
});

const T0 = Date.UTC(2026, 10, 26, 9, 30, 0);

const alertPoint = (seq: number, over: Partial<Record<string, string>> = {}, atMs = T0): TsPoint => ({
  measurement: 'alert',
  tags: { home: 'h1', kind: 'sos', severity: 'critical', status: 'open', ...over },
  fields: {
    alert_id: `al-${seq}`,
    version: 1,
    raised: 1,
    open_delta: 1,
    occurrences: 2,
    escalation_level: 0,
    seconds_to_ack: 42.5,
    cancelled_by_resident: false,
    device: 'h1-sos',
  },
  timeNs: rowTimeNs(atMs, seq),
});

const eventPoint = (seq: number, atMs: number, device = 'h1-door', type = 'door.opened'): TsPoint => ({
  measurement: 'device_event',
  tags: { home: device.split('-')[0] ?? 'h1', device, kind: 'door_sensor', type },
  fields: { value: 1, seq, battery: 87.5, battery_low: false },
  timeNs: rowTimeNs(atMs, seq),
});

const range = { fromMs: T0 - 3600_000, toMs: T0 + 3600_000 };

async function errorOf(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    return err as HubError;
  }
  throw new Error('expected a rejection');
}

describe.each([
  ['InfluxDB 1.x (real influxd 1.6.7)', () => influx1],
  ['InfluxDB 2.x (local fake of the HTTP API)', () => influx2],
])('TimeSeriesBackend contract: %s', (_name, subjectOf) => {
  it('initialises idempotently and answers ping', async () => {
    const s = subjectOf();
    const b = await s.fresh();
    await b.init();
    expect(await b.ping()).toBe(true);
    expect(b.target).not.toMatch(/token|password/i);
  });

  it('writes typed points and reads the same tags, fields and ms time back', async () => {
    const b = await subjectOf().fresh();
    await b.write([alertPoint(7), eventPoint(8, T0 + 1500)]);
    const alerts = await b.select({ measurement: 'alert', ...range });
    expect(alerts).toEqual([
      {
        timeMs: T0,
        tags: { home: 'h1', kind: 'sos', severity: 'critical', status: 'open' },
        fields: {
          alert_id: 'al-7',
          version: 1,
          raised: 1,
          open_delta: 1,
          occurrences: 2,
          escalation_level: 0,
          seconds_to_ack: 42.5,
          cancelled_by_resident: false,
          device: 'h1-sos',
        },
      },
    ]);
    const events = await b.select({ measurement: 'device_event', ...range });
    expect(events).toEqual([
      {
        timeMs: T0 + 1500,
        tags: { home: 'h1', device: 'h1-door', kind: 'door_sensor', type: 'door.opened' },
        fields: { value: 1, seq: 8, battery: 87.5, battery_low: false },
      },
    ]);
  });

  it('overwrites on a rewrite of the same row (same series + timestamp): shipping twice is harmless', async () => {
    const b = await subjectOf().fresh();
    const batch = [alertPoint(1), alertPoint(2, {}, T0 + 10), eventPoint(3, T0 + 20)];
    await b.write(batch);
    await b.write(batch);
    expect(await b.select({ measurement: 'alert', ...range })).toHaveLength(2);
    expect(await b.select({ measurement: 'device_event', ...range })).toHaveLength(1);
  });

  it('keeps two rows of one series in the same millisecond as two points (seq offset)', async () => {
    const b = await subjectOf().fresh();
    await b.write([alertPoint(41), alertPoint(42)]);
    const rows = await b.select({ measurement: 'alert', ...range });
    expect(rows.map((r) => r.fields.alert_id).sort()).toEqual(['al-41', 'al-42']);
    expect(rows.every((r) => r.timeMs === T0)).toBe(true);
  });

  it('filters by tag (any of several values), orders newest first and limits', async () => {
    const b = await subjectOf().fresh();
    await b.write([
      eventPoint(1, T0 + 1000, 'h1-door'),
      eventPoint(2, T0 + 2000, 'h2-door'),
      eventPoint(3, T0 + 3000, 'h3-door'),
      eventPoint(4, T0 + 4000, 'h1-door', 'door.closed'),
    ]);
    const h1h2 = await b.select({
      measurement: 'device_event',
      ...range,
      tags: { home: ['h1', 'h2'] },
      order: 'desc',
    });
    expect(h1h2.map((r) => r.fields.seq)).toEqual([4, 2, 1]);
    const newest = await b.select({
      measurement: 'device_event',
      ...range,
      tags: { device: 'h1-door' },
      order: 'desc',
      limit: 1,
    });
    expect(newest.map((r) => r.tags.type)).toEqual(['door.closed']);
    expect(await b.select({ measurement: 'device_event', ...range, tags: { home: [] } })).toEqual([]);
    expect(await b.select({ measurement: 'device_event', fromMs: T0 + 2500, toMs: T0 + 3500 })).toHaveLength(
      1,
    );
  });

  it('answers a field type conflict with HUB_ERR_STORE_REJECTED and the store’s own message', async () => {
    const s = subjectOf();
    const b = await s.fresh();
    await s.rawWrite(
      b,
      `device_event,home=h9,device=h9-door,kind=door_sensor,type=heartbeat battery=5i ${rowTimeNs(T0, 1)}`,
    );
    const err = await errorOf(b.write([eventPoint(2, T0 + 5)]));
    expect(err.code).toBe(ErrorCodes.STORE_REJECTED);
    expect(err.message).toMatch(/field type conflict/);
    expect([400, 422]).toContain(statusOf(err));
  });

  it('treats a missing database / bucket as unavailable (retried), never as refused points', async () => {
    const err = await errorOf(
      subjectOf()
        .missingTarget()
        .write([alertPoint(1)]),
    );
    expect(err.code).toBe(ErrorCodes.STORE_UNAVAILABLE);
    expect(statusOf(err)).toBe(404);
  });

  it('treats an unreachable store as unavailable, and ping says false', async () => {
    const b = await subjectOf().unreachable();
    const err = await errorOf(b.write([alertPoint(1)]));
    expect(err.code).toBe(ErrorCodes.STORE_UNAVAILABLE);
    expect(statusOf(err)).toBeNull();
    expect(await b.ping()).toBe(false);
  });

  it('deletes one home’s points (resident purge) and points older than a cutoff (retention)', async () => {
    const b = await subjectOf().fresh();
    await b.write([
      alertPoint(1, { home: 'h1' }, T0 - 60_000),
      alertPoint(2, { home: 'h2' }, T0 - 60_000),
      alertPoint(3, { home: 'h2' }, T0 + 60_000),
      eventPoint(4, T0 - 60_000, 'h1-door'),
    ]);
    await b.deleteWhere('alert', { home: 'h1' });
    expect((await b.select({ measurement: 'alert', ...range })).map((r) => r.fields.alert_id)).toEqual([
      'al-2',
      'al-3',
    ]);
    expect(await b.select({ measurement: 'device_event', ...range })).toHaveLength(1);
    await b.deleteBefore('alert', T0);
    expect((await b.select({ measurement: 'alert', ...range })).map((r) => r.fields.alert_id)).toEqual([
      'al-3',
    ]);
    expect(await b.select({ measurement: 'device_event', ...range })).toHaveLength(1);
  });
});

describe('InfluxDB 1.x specifics (real influxd)', () => {
  it('creates the database and the retention policy when missing, and refuses points beyond it', async () => {
    const b = new Influx1Backend({
      url: influxd.url,
      database: 'rp_check',
      retentionPolicy: 'short',
      retentionPolicyDuration: '1h',
    });
    await b.init();
    const dbs = await influxd.query('', 'SHOW DATABASES');
    expect(dbs.results[0]?.series?.[0]?.values.flat()).toContain('rp_check');
    const rps = await influxd.query('rp_check', 'SHOW RETENTION POLICIES ON rp_check');
    expect(rps.results[0]?.series?.[0]?.values.map((v) => v[0])).toContain('short');
    const now = Date.now();
    await b.write([alertPoint(1, {}, now)]);
    expect(await b.select({ measurement: 'alert', fromMs: now - 1000, toMs: now + 1000 })).toHaveLength(1);
    const err = await errorOf(b.write([alertPoint(2, {}, Date.UTC(1990, 0, 1))]));
    expect(err.code).toBe(ErrorCodes.STORE_REJECTED);
    expect(err.message).toMatch(/points beyond retention policy/);
  });
});

describe('InfluxDB 2.x specifics (fake HTTP API)', () => {
  it('sends one POST /api/v2/write with org, bucket, precision=ns, the token and exact line protocol', async () => {
    const b = await influx2.fresh();
    const before = fake.writes().length;
    await b.write([alertPoint(7), eventPoint(8, T0 + 1500)]);
    const writes = fake.writes().slice(before);
    expect(writes).toHaveLength(1);
    const w = writes[0]!;
    expect(w.method).toBe('POST');
    expect(w.query).toEqual({ org: 'carehub-org', bucket: 'carehub', precision: 'ns' });
    expect(w.headers.authorization).toBe('Token test-token-2x');
    expect(w.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(w.body).toBe(
      [
        `alert,home=h1,kind=sos,severity=critical,status=open alert_id="al-7",cancelled_by_resident=F,device="h1-sos",escalation_level=0i,occurrences=2i,open_delta=1i,raised=1i,seconds_to_ack=42.5,version=1i ${BigInt(T0) * 1_000_000n + 7n}`,
        `device_event,device=h1-door,home=h1,kind=door_sensor,type=door.opened battery=87.5,battery_low=F,seq=8i,value=1i ${BigInt(T0 + 1500) * 1_000_000n + 8n}`,
      ].join('\n'),
    );
  });

  it('treats 503 as unavailable and a wrong token (401) as unavailable, not as refused points', async () => {
    const b = await influx2.fresh();
    fake.mode = 'unavailable';
    try {
      const err = await errorOf(b.write([alertPoint(1)]));
      expect(err.code).toBe(ErrorCodes.STORE_UNAVAILABLE);
      expect(statusOf(err)).toBe(503);
    } finally {
      fake.mode = 'ok';
    }
    const wrong = new Influx2Backend({ url: fake.url, org: fake.org, bucket: fake.bucket, token: 'wrong' });
    const err = await errorOf(wrong.write([alertPoint(1)]));
    expect(err.code).toBe(ErrorCodes.STORE_UNAVAILABLE);
    expect(statusOf(err)).toBe(401);
    expect(err.message).not.toContain('wrong');
  });

  it('reports a missing bucket at init', async () => {
    const err = await errorOf(influx2.missingTarget().init());
    expect(err.code).toBe(ErrorCodes.STORE_UNAVAILABLE);
    expect(err.message).toMatch(/bucket "no-such-bucket" not found/);
  });
});
