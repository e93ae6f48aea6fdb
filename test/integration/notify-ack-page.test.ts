import { request } from 'node:http';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_TRIES_PER_MINUTE } from '../../hub/src/http/routes/ack-routes.js';
import { signLink } from '../../hub/src/notify/link-token.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { notifyRaw, TestReceiver } from '../helpers/notify-servers.js';

/**
 * The public "I am going" page: no login, one token per (alert, contact), and every bad token
 * (forged, altered, expired, for a contact that does not exist, replayed) gets a clear page that
 * reveals nothing about the alert. Its inputs are fuzzed with fast-check.
 */
const KEY = Buffer.from('test-link-secret-0123456789abcdefghijklmnop');
const hook = new TestReceiver({ status: 200, body: '{}' });
let t: TestHub;
let device: MqttClient;
let sup: string;
let alertId = '';
let createdAt = 0;

/** What a bad token's page must not show: the address, the alert's kind or id, any alert id at all. */
const revealsNothing = (html: string) =>
  ['Wenting', '文亭里', 'SOS', '紧急', alertId].every((s) => !html.includes(s)) &&
  !/al-[0-9a-z]{9}-/.test(html);

beforeAll(async () => {
  await hook.start();
  // SMTP on port 9 (nothing there): email rows retry; only the page matters here.
  const raw = notifyRaw(demoRaw(), { smtpPort: 9, webhook: `${hook.url}/hook` });
  t = await startHub({ raw, env: { CAREHUB_CLOCK: 'manual' }, manualClockStart: Date.now() });
  sup = await login(t.httpUrl, 'supervisor1');
  device = await connectDevice(t.mqttUrl, 'h1-sos');
  await device.publishAsync('carehub/v1/devices/h1-sos/events', JSON.stringify({ type: 'sos.pressed' }), {
    qos: 1,
  });
  alertId = t.hub.store.alerts.findOpen('sos:h1')?.alert.id ?? '';
  await api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms: 60_000 } });
  createdAt = t.hub.store.notify.byAlert(alertId)[0]?.createdAt ?? 0;
  expect(createdAt).toBeGreaterThan(0);
});
afterAll(async () => {
  await device?.endAsync();
  await t?.stop();
  await hook.stop();
});

const link = (token: string) => `${t.httpUrl}/ack/${token}`;
const tokenFor = (contact: number, key = KEY, exp = createdAt + 12 * 3_600_000) =>
  signLink(key, { alertId, contact, exp });
const get = async (token: string, headers: Record<string, string> = {}) => {
  const res = await fetch(link(token), { headers: { 'x-forwarded-for': '', ...headers } });
  return { status: res.status, html: await res.text(), headers: res.headers };
};
const post = async (token: string, headers: Record<string, string> = {}) => {
  const res = await fetch(link(token), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: 'going=1',
  });
  return { status: res.status, html: await res.text() };
};

/** One request from a given loopback source address (node:http), so each address stays under the rate limit. */
function rawRequest(
  path: string,
  method: string,
  type: string,
  body: string,
  localAddress: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: new URL(t.httpUrl).port,
        path,
        method,
        localAddress,
        headers: { 'content-type': type },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : body);
  });
}

describe('the acknowledgement page', () => {
  it('a valid link shows the alert in the contact’s language (zh-CN), in English on request, uncached, unframed', async () => {
    const zh = await get(tokenFor(0));
    expect(zh.status).toBe(200);
    expect(zh.html).toContain('lang="zh-CN"');
    expect(zh.html).toContain('紧急求救：文亭里3号101室 (Wenting Lane 3-101)');
    expect(zh.html).not.toContain('Wang Guifang');
    expect(zh.headers.get('cache-control')).toBe('no-store');
    expect(zh.headers.get('x-frame-options')).toBe('DENY');
    expect(zh.headers.get('referrer-policy')).toBe('same-origin');
    const en = await get(`${tokenFor(0)}?lang=en`);
    expect(en.html).toContain('lang="en"');
    expect(en.html).toContain('I am going');
  });

  it('forged, altered, a contact that does not exist, garbage: one page that says nothing, and nothing recorded', async () => {
    const good = tokenFor(0);
    const cases = [
      tokenFor(0, Buffer.from('another-key-0123456789abcdefghijklmnop')),
      good.replace(`${alertId}.0.`, `${alertId}.1.`),
      `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
      tokenFor(7),
      signLink(KEY, { alertId: 'al-000000000-0000000-0', contact: 0, exp: createdAt + 3_600_000 }),
      'not-a-token',
    ];
    for (const token of cases) {
      for (const r of [await get(token), await post(token, { origin: t.httpUrl })]) {
        expect(r.status, token).toBe(404);
        expect(r.html).toContain('data-state="invalid"');
        expect(revealsNothing(r.html), r.html).toBe(true);
      }
    }
    expect(t.hub.store.notify.going(alertId)).toEqual([]);
  });

  it('a form posted from another site is refused and records nothing', async () => {
    const r = await post(tokenFor(1), { origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(revealsNothing(r.html)).toBe(true);
    expect(t.hub.store.notify.going(alertId)).toEqual([]);
  });

  it('a replayed link: the first POST records the contact going, the next ones say it was used', async () => {
    const token = tokenFor(1);
    expect((await post(token, { origin: t.httpUrl })).html).toContain('data-state="going"');
    expect((await post(token)).html).toContain('data-state="used"');
    expect((await get(token)).html).toContain('data-state="used"');
    expect(t.hub.store.notify.going(alertId).map((g) => g.contact)).toEqual([1]);
    const notes = t.hub.store.alerts
      .get(alertId)
      ?.alert.notes.filter((n) => n.texts?.en?.includes('is going'));
    expect(notes).toHaveLength(1);
  });

  it('an expired link no longer works', async () => {
    const token = tokenFor(2);
    expect((await get(token)).status).toBe(200);
    await api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms: 12 * 3_600_000 } });
    const r = await get(token);
    expect(r.status).toBe(404);
    expect(r.html).toContain('data-state="invalid"');
  });

  it('fuzzed paths, methods and bodies: never a 500, never a leak', async () => {
    let sent = 0;
    const segment = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,64}\.[0-9]{1,3}\.[0-9a-z]{1,11}\.[A-Za-z0-9_-]{43}$/),
      fc.constant(tokenFor(0)).map((tk) => tk.slice(0, -2)),
    );
    await fc.assert(
      fc.asyncProperty(
        segment,
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
        fc.string({ maxLength: 300 }),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
        async (seg, method, body, type) => {
          // From a fresh loopback address every 20 requests: the page itself is fuzzed, not its rate limit.
          const from = `127.0.${Math.floor(++sent / 20) % 250}.${2 + (sent % 200)}`;
          const res = await rawRequest(`/ack/${encodeURIComponent(seg)}`, method, type, body, from);
          expect(res.status).toBeLessThan(500);
          expect(res.status).not.toBe(429);
          expect(revealsNothing(res.body), res.body).toBe(true);
        },
      ),
      { numRuns: Number(process.env.CAREHUB_ACK_FUZZ_RUNS ?? 300) },
    );
    expect(t.hub.store.notify.going(alertId).map((g) => g.contact)).toEqual([1]);
  });

  it(`more than ${ACK_TRIES_PER_MINUTE} tries a minute from one address get the "try again" page`, async () => {
    let last = { status: 0, html: '' };
    for (let i = 0; i <= ACK_TRIES_PER_MINUTE; i++) last = await get('not-a-token');
    expect(last.status).toBe(429);
    expect(last.html).toContain('data-state="busy"');
  });
});
