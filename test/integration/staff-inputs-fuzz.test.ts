import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Property tests over the staff input surfaces added with check-ins and notifications: the rhythm
 * override (POST /homes/:id/rhythm), the check-in report's query, the test message
 * (POST /notifications/test) and generated `checkin` events over MQTT. Whatever comes in, the hub
 * stays up and answers 2xx or a coded 4xx; an SOS sent afterwards still becomes an alert.
 * Bounded for CI (CAREHUB_STAFF_FUZZ_RUNS, default 100 per property).
 */
const RUNS = Number(process.env.CAREHUB_STAFF_FUZZ_RUNS ?? 100);
let t: TestHub;
let sup: string;

beforeAll(async () => {
  t = await startHub();
  sup = await login(t.httpUrl, 'supervisor1');
});
afterAll(async () => {
  await t.stop();
});

async function send(method: string, path: string, body?: string): Promise<void> {
  const r = await fetch(`${t.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${sup}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  const text = await r.text();
  if (r.status >= 200 && r.status < 300) return;
  expect(r.status, text).toBeGreaterThanOrEqual(400);
  expect(r.status, text).toBeLessThan(500);
  expect(JSON.parse(text).error.code, text).toMatch(/^HUB_ERR_[A-Z_]+$/);
}

const homeId = fc.oneof(
  fc.constantFrom('h1', 'h2', 'h3', 'nope', '..', '%2e%2e'),
  fc.string({ maxLength: 80 }),
);
const anyJson = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        askAfterHours: fc.oneof(fc.double(), fc.integer(), fc.constant(null), fc.string()),
        forget: fc.oneof(fc.boolean(), fc.string()),
        homeId,
        contact: fc.oneof(fc.integer(), fc.double(), fc.string()),
        channel: fc.oneof(fc.constantFrom('email', 'webhook', 'sms', 'wecom', 'dingtalk'), fc.string()),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
);

describe('staff inputs of check-ins and notifications, generated', () => {
  it('rhythm overrides: 2xx or a coded 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(homeId, anyJson, async (id, body) => {
        await send('POST', `/homes/${encodeURIComponent(id)}/rhythm`, body);
      }),
      { numRuns: RUNS },
    );
  });

  it('the check-in report query: 2xx or a coded 4xx', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.integer().map(String),
      fc.date().map((d) => d.toISOString()),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('from', 'to', 'homeId', 'x', 'limit'), value),
        async (q) => {
          await send('GET', `/reports/checkins?${new URLSearchParams(q)}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('test messages: 2xx or a coded 4xx (429 past the limit)', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (body) => {
        await send('POST', '/notifications/test', body);
      }),
      { numRuns: RUNS },
    );
  });

  it('generated check-in events are accepted or dead-lettered; the hub stays up and an SOS still raises', async () => {
    const device = await connectDevice(t.mqttUrl, 'h2-sos');
    try {
      const payload = fc.oneof(
        fc
          .record(
            {
              type: fc.constant('checkin'),
              requestId: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
            },
            { requiredKeys: ['type'] },
          )
          .map((o) => JSON.stringify(o)),
        fc.string({ maxLength: 200 }),
      );
      await fc.assert(
        fc.asyncProperty(payload, async (p) => {
          await device.publishAsync('carehub/v1/devices/h2-sos/events', p, { qos: 1 });
        }),
        { numRuns: RUNS },
      );
      await device.publishAsync('carehub/v1/devices/h2-sos/events', JSON.stringify({ type: 'sos.pressed' }), {
        qos: 1,
      });
      expect(t.hub.store.alerts.findOpen('sos:h2')).toBeDefined();
      expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      await device.endAsync();
    }
  });
});
