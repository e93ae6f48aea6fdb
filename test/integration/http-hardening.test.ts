import { describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import { FeedClient } from '../helpers/feed-client.js';
import { rawBytes, rawRequest, statusOfRaw, wsHandshake } from '../helpers/http-raw.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Issue 16, the HTTP and staff-feed part: no single request, stranger or session trick may silence or
 * misuse the hub. Each `describe` is one defect found from outside; every test here failed on the
 * hand-written HTTP layer it replaced.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref(),
    ),
  ]);

const code = (a: { json: () => unknown }) => (a.json() as { error?: { code?: string } }).error?.code;

describe('one request cannot end the process (1)', () => {
  const cleanup = useCleanup();

  it('answers a target URL() cannot parse, a cookie that is not percent-encoding and a bad escape with 4xx; broker and API stay up', async () => {
    const levels: number[] = [];
    const t = await startHub({
      logger: createLogger('info', {
        write: (s: string) => {
          levels.push((JSON.parse(s) as { level: number }).level);
        },
      }),
    });
    cleanup.push(() => t.stop());
    const port = t.hub.ports.http;
    const origin = `http://127.0.0.1:${port}`;

    const bracket = await rawBytes(port, 'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(statusOfRaw(bracket)).toBeGreaterThanOrEqual(200);
    expect(statusOfRaw(bracket)).toBeLessThan(500);
    const upgradeBracket = await rawBytes(
      port,
      'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(statusOfRaw(upgradeBracket)).toBe(404);

    const badCookie = await wsHandshake(`ws://127.0.0.1:${port}/api/v1/feed`, {
      origin,
      headers: { cookie: 'carehub_session=%E0%A4%A' },
    });
    expect(badCookie.status).toBe(401);
    expect(JSON.parse(badCookie.body ?? '{}')).toMatchObject({ error: { code: 'HUB_ERR_UNAUTHENTICATED' } });

    const badEscape = await rawRequest(port, { path: '/%E0%A4%A' });
    expect(badEscape.status).toBe(400);
    expect(code(badEscape)).toBe('HUB_ERR_BAD_REQUEST');
    expect((await rawRequest(port, { path: '/api/v1/alerts/%E0%A4%A' })).status).toBe(400);
    expect(levels.filter((l) => l >= 50)).toEqual([]);

    // still serving: the API, and the broker takes an SOS
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
    const token = await login(t.httpUrl, 'duty1');
    const staff = await FeedClient.connect(t.wsUrl, token);
    cleanup.push(() => staff.close());
    const pendant = await connectDevice(t.mqttUrl, 'h1-sos');
    cleanup.push(() => pendant.endAsync(true));
    await pendant.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'after' }),
      {
        qos: 1,
      },
    );
    expect((await staff.next((m) => m.type === 'alert')).alert).toMatchObject({ kind: 'sos' });
  });
});

describe('the feed ends with its session (3)', () => {
  const cleanup = useCleanup();

  async function raiseSos(t: TestHub, id: string): Promise<string> {
    const c = await connectDevice(t.mqttUrl, 'h1-sos');
    await c.publishAsync('carehub/v1/devices/h1-sos/events', JSON.stringify({ type: 'sos.pressed', id }), {
      qos: 1,
    });
    await c.endAsync();
    const sup = await login(t.httpUrl, 'supervisor1');
    const { body } = await api<{ alerts: Array<{ id: string }> }>(
      t.httpUrl,
      sup,
      '/api/v1/alerts?status=open',
    );
    return body.alerts[0]?.id as string;
  }

  const closeOf = (f: FeedClient) =>
    new Promise<{ code: number; reason: string }>((resolve) =>
      f.ws.once('close', (c, r) => resolve({ code: c, reason: r.toString() })),
    );

  it('logout closes the session’s feeds at once with 4401; other sessions keep theirs', async () => {
    const t = await startHub();
    cleanup.push(() => t.stop());
    const token = await login(t.httpUrl, 'duty1');
    const other = await login(t.httpUrl, 'duty1');
    const a = await FeedClient.connect(t.wsUrl, token);
    const b = await FeedClient.connect(t.wsUrl, token);
    const c = await FeedClient.connect(t.wsUrl, other);
    cleanup.push(
      () => a.close(),
      () => b.close(),
      () => c.close(),
    );
    const closedA = closeOf(a);
    const closedB = closeOf(b);
    expect((await api(t.httpUrl, token, '/api/v1/logout', { body: {} })).status).toBe(200);
    expect(await within(closedA, 3000, 'feed a closed')).toEqual({ code: 4401, reason: 'logged out' });
    expect((await within(closedB, 3000, 'feed b closed')).code).toBe(4401);
    // the other login of the same person is untouched, and still acts
    const id = await raiseSos(t, 'logout');
    await c.next((m) => m.type === 'alert');
    expect((await c.request({ type: 'ack', alertId: id })).ok).toBe(true);
    // the ended session cannot open a new feed
    expect(
      (await wsHandshake(`${t.wsUrl}/api/v1/feed`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
  });

  it('an action on a feed whose session has expired is refused and the feed closed; the audit has no action in that name', async () => {
    let shift = 0;
    const t = await startHub({ realNow: () => Date.now() + shift });
    cleanup.push(() => t.stop());
    const alertId = await raiseSos(t, 'expired');
    const token = await login(t.httpUrl, 'duty1');
    const f = await FeedClient.connect(t.wsUrl, token);
    cleanup.push(() => f.close());
    const closed = closeOf(f);
    // the session runs out (as if its 12 h had passed) before the feed's expiry timer could notice
    shift = t.config.http.sessionTtlMinutes * 60_000 + 1000;
    f.send({ type: 'ack', alertId, requestId: 'late' });
    expect((await within(closed, 3000, 'feed closed')).code).toBe(4401);
    expect(f.messages.some((m) => m.type === 'result' && m.requestId === 'late' && m.ok === true)).toBe(
      false,
    );
    const admin = await login(t.httpUrl, 'admin1');
    const { body } = await api<{ entries: Array<{ actor: string }> }>(
      t.httpUrl,
      admin,
      '/api/v1/audit?action=alert.ack',
    );
    expect(body.entries).toEqual([]);
    const sup = await login(t.httpUrl, 'supervisor1');
    const alert = await api<{ alert: { status: string } }>(t.httpUrl, sup, `/api/v1/alerts/${alertId}`);
    expect(alert.body.alert.status).toBe('open');
  });

  it('a feed is closed the moment its session expires, on real time', async () => {
    let shift = 0;
    const t = await startHub({ realNow: () => Date.now() + shift });
    cleanup.push(() => t.stop());
    const token = await login(t.httpUrl, 'duty1');
    // 1.5 s of the session left
    shift = t.config.http.sessionTtlMinutes * 60_000 - 1500;
    const f = await FeedClient.connect(t.wsUrl, token);
    cleanup.push(() => f.close());
    const closed = await within(closeOf(f), 5000, 'feed closed at expiry');
    expect(closed).toEqual({ code: 4401, reason: 'session expired' });
  });

  it('ending a staff member’s sessions (staff removed) closes all their feeds', async () => {
    const t = await startHub();
    cleanup.push(() => t.stop());
    const a = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
    const b = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
    const sup = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'supervisor1'));
    cleanup.push(
      () => a.close(),
      () => b.close(),
      () => sup.close(),
    );
    const closed = [closeOf(a), closeOf(b)];
    await t.hub.sessions.endSessionsOf('duty1');
    for (const c of closed)
      expect(await within(c, 3000, 'closed')).toEqual({ code: 4401, reason: 'staff removed' });
    expect(t.hub.feed.clientCount()).toBe(1);
  });
});

describe('login lockout cannot be used against others (4)', () => {
  const cleanup = useCleanup();

  const attempt = (t: TestHub, username: string, password: string, o: { from?: string; xff?: string } = {}) =>
    rawRequest(t.hub.ports.http, {
      path: '/api/v1/login',
      headers: { 'content-type': 'application/json', ...(o.xff ? { 'x-forwarded-for': o.xff } : {}) },
      body: JSON.stringify({ username, password }),
      ...(o.from ? { localAddress: o.from } : {}),
    });

  it('wrong passwords from one address delay only that address for that name; the right password from another works', async () => {
    const t = await startHub();
    cleanup.push(() => t.stop());
    const stranger = { from: '127.0.0.2' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(t, 'admin1', 'guess', stranger)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    // the stranger is slowed down, even with the right password …
    const slowed = await attempt(t, 'admin1', 'admin1-demo', stranger);
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers['retry-after'])).toBeGreaterThan(0);
    // … the admin at their own desk is not
    expect((await attempt(t, 'admin1', 'admin1-demo', { from: '127.0.0.1' })).status).toBe(200);
    // nor is anyone else at the stranger's address
    expect((await attempt(t, 'duty1', 'duty1-demo', stranger)).status).toBe(200);
  });

  it('the delay grows with each further failure', async () => {
    const t = await startHub();
    cleanup.push(() => t.stop());
    for (let i = 0; i < 4; i++) await attempt(t, 'duty1', 'x');
    const first = await attempt(t, 'duty1', 'x');
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    await sleep(1100);
    expect((await attempt(t, 'duty1', 'x')).status).toBe(401);
    const second = await attempt(t, 'duty1', 'x');
    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('2');
  });

  it('behind a trusted proxy each client counts by its forwarded address; forwarded headers from others are ignored', async () => {
    const raw = demoRaw();
    raw.http = { trustedProxies: ['127.0.0.1'] };
    const t = await startHub({ raw });
    cleanup.push(() => t.stop());
    for (let i = 0; i < 5; i++) await attempt(t, 'admin1', 'guess', { xff: '203.0.113.7' });
    expect((await attempt(t, 'admin1', 'admin1-demo', { xff: '203.0.113.7' })).status).toBe(429);
    // the whole site is behind the proxy: the admin elsewhere, and a colleague, are not locked out
    expect((await attempt(t, 'admin1', 'admin1-demo', { xff: '203.0.113.8' })).status).toBe(200);
    expect((await attempt(t, 'duty1', 'duty1-demo', { xff: '198.51.100.1, 203.0.113.9' })).status).toBe(200);
    // a client that is not the proxy cannot pick its address with the header
    for (let i = 0; i < 5; i++)
      await attempt(t, 'duty1', 'guess', { from: '127.0.0.2', xff: '203.0.113.10' });
    expect((await attempt(t, 'duty1', 'duty1-demo', { from: '127.0.0.2', xff: '203.0.113.11' })).status).toBe(
      429,
    );
    // the audit names the client's address, not the proxy's
    const admin = await login(t.httpUrl, 'admin1');
    const audit = await api<{ entries: Array<{ target: string }> }>(
      t.httpUrl,
      admin,
      '/api/v1/audit?action=login.failed',
    );
    expect(audit.body.entries.map((e) => e.target)).toContain('203.0.113.7');
  });
});

describe('cross-site requests (5)', () => {
  const cleanup = useCleanup();

  async function withAlert(raw = demoRaw()) {
    const t = await startHub({ raw });
    cleanup.push(() => t.stop());
    const c = await connectDevice(t.mqttUrl, 'h1-sos');
    await c.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'x' }),
      {
        qos: 1,
      },
    );
    await c.endAsync();
    const token = await login(t.httpUrl, 'duty1');
    const { body } = await api<{ alerts: Array<{ id: string }> }>(t.httpUrl, token, '/api/v1/alerts');
    return {
      t,
      token,
      alertId: body.alerts[0]?.id as string,
      origin: `http://127.0.0.1:${t.hub.ports.http}`,
    };
  }

  it('a form POST with the cookie is refused (foreign Origin, no Origin, or not JSON) and changes nothing', async () => {
    const { t, token, alertId, origin } = await withAlert();
    const port = t.hub.ports.http;
    const post = (headers: Record<string, string>, body = '{}') =>
      rawRequest(port, { path: `/api/v1/alerts/${alertId}/ack`, headers, body });
    const cookie = `carehub_session=${token}`;
    const foreign = await post({ cookie, origin: 'http://evil.example', 'content-type': 'text/plain' });
    expect([foreign.status, code(foreign)]).toEqual([403, 'HUB_ERR_CROSS_ORIGIN']);
    const sameSite = await post({
      cookie,
      origin: 'http://127.0.0.1:3000',
      'content-type': 'application/json',
    });
    expect([sameSite.status, code(sameSite)]).toEqual([403, 'HUB_ERR_CROSS_ORIGIN']);
    const noOrigin = await post({ cookie, 'content-type': 'text/plain' });
    expect([noOrigin.status, code(noOrigin)]).toEqual([403, 'HUB_ERR_CROSS_ORIGIN']);
    const nullOrigin = await post({ cookie, origin: 'null', 'content-type': 'application/json' });
    expect(nullOrigin.status).toBe(403);
    const plain = await post({ cookie, origin, 'content-type': 'text/plain' });
    expect([plain.status, code(plain)]).toEqual([415, 'HUB_ERR_UNSUPPORTED_MEDIA_TYPE']);
    const form = await post({ cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    expect([form.status, code(form)]).toEqual([415, 'HUB_ERR_UNSUPPORTED_MEDIA_TYPE']);
    const alert = await api<{ alert: { status: string } }>(t.httpUrl, token, `/api/v1/alerts/${alertId}`);
    expect(alert.body.alert.status).toBe('open');
    // the console (same origin, JSON) acts; so does a script with a bearer token and no Origin
    expect((await post({ cookie, origin, 'content-type': 'application/json' })).status).toBe(200);
    const note = await rawRequest(port, {
      path: `/api/v1/alerts/${alertId}/notes`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from a script' }),
    });
    expect(note.status).toBe(200);
  });

  it('a cookie-authenticated read marked as made by another site is refused; the same read from the console is served', async () => {
    const { t, token } = await withAlert();
    const get = (site: string) =>
      rawRequest(t.hub.ports.http, {
        path: '/api/v1/homes/h1',
        headers: { cookie: `carehub_session=${token}`, 'sec-fetch-site': site },
      });
    expect((await get('cross-site')).status).toBe(403);
    expect((await get('same-site')).status).toBe(403);
    expect((await get('same-origin')).status).toBe(200);
  });

  it('a feed upgrade with the cookie from a foreign Origin is refused; from the hub’s own origin it opens', async () => {
    const { t, token, origin } = await withAlert();
    const url = `${t.wsUrl}/api/v1/feed`;
    const headers = { cookie: `carehub_session=${token}` };
    const foreign = await wsHandshake(url, { headers, origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body ?? '{}')).toMatchObject({ error: { code: 'HUB_ERR_CROSS_ORIGIN' } });
    expect((await wsHandshake(url, { headers })).status).toBe(403);
    const own = await wsHandshake(url, { headers, origin });
    expect(own.status).toBe(101);
    own.ws?.close();
  });

  it('http.allowedOrigins lets a configured origin act with the cookie', async () => {
    const raw = demoRaw();
    raw.http = { allowedOrigins: ['https://console.example.org'] };
    const { t, token, alertId } = await withAlert(raw);
    const res = await rawRequest(t.hub.ports.http, {
      path: `/api/v1/alerts/${alertId}/ack`,
      headers: {
        cookie: `carehub_session=${token}`,
        origin: 'https://console.example.org',
        'content-type': 'application/json',
      },
      body: '{}',
    });
    expect(res.status).toBe(200);
  });
});

describe('the smaller ones (6)', () => {
  const cleanup = useCleanup();

  it('caps feed connections per session with a clear refusal; other sessions are not affected', async () => {
    const raw = demoRaw();
    raw.feed = { maxConnectionsPerSession: 3 };
    const t = await startHub({ raw });
    cleanup.push(() => t.stop());
    const token = await login(t.httpUrl, 'duty1');
    const open: FeedClient[] = [];
    for (let i = 0; i < 3; i++) open.push(await FeedClient.connect(t.wsUrl, token));
    cleanup.push(...open.map((f) => () => f.close()));
    const url = `${t.wsUrl}/api/v1/feed`;
    const headers = { authorization: `Bearer ${token}` };
    const fourth = await wsHandshake(url, { headers });
    expect(fourth.status).toBe(429);
    expect(JSON.parse(fourth.body ?? '{}')).toMatchObject({
      error: { code: 'HUB_ERR_TOO_MANY_CONNECTIONS' },
    });
    const other = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
    cleanup.push(() => other.close());
    await open[0]?.close();
    await expect.poll(() => t.hub.feed.clientCount()).toBe(3);
    const again = await wsHandshake(url, { headers });
    expect(again.status).toBe(101);
    again.ws?.close();
  });

  it('cuts a request whose headers trickle in (slow loris) at the documented 10 s, with 408', {
    timeout: 30_000,
  }, async () => {
    const t = await startHub();
    cleanup.push(() => t.stop());
    const port = t.hub.ports.http;
    const { connect } = await import('node:net');
    const slow = (send: (s: import('node:net').Socket) => void) =>
      new Promise<{ ms: number; answer: string }>((resolve) => {
        const started = Date.now();
        const s = connect({ host: '127.0.0.1', port });
        let answer = '';
        s.on('data', (d: Buffer) => {
          answer += d.toString('latin1');
        });
        s.on('error', () => {});
        s.on('close', () => resolve({ ms: Date.now() - started, answer }));
        cleanup.push(() => s.destroy());
        send(s);
      });
    const trickle = slow((s) => {
      s.write('GET /api/v1/alerts HTTP/1.1\r\nHost: x\r\n');
      const timer = setInterval(() => s.writable && s.write('X'), 400);
      s.once('close', () => clearInterval(timer));
    });
    const lineOnly = slow((s) => s.write('GET / HTTP/1.1\r\n'));
    const results = await within(Promise.all([trickle, lineOnly]), 20_000, 'slow requests cut');
    for (const r of results) {
      expect(r.ms).toBeGreaterThanOrEqual(9_500);
      expect(r.ms).toBeLessThan(12_500);
      expect(statusOfRaw(r.answer)).toBe(408);
    }
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  });

  it('GET /homes (names, ages, addresses) is audited once per staff member and minute', async () => {
    const t = await startHub({ env: { CAREHUB_CLOCK: 'manual' } });
    cleanup.push(() => t.stop());
    const duty = await login(t.httpUrl, 'duty1');
    const sup = await login(t.httpUrl, 'supervisor1');
    const admin = await login(t.httpUrl, 'admin1');
    for (let i = 0; i < 5; i++) expect((await api(t.httpUrl, duty, '/api/v1/homes')).status).toBe(200);
    await api(t.httpUrl, sup, '/api/v1/homes');
    const rows = async () =>
      (
        await api<{ entries: Array<{ actor: string; target: string; data: { homes: string[] } }> }>(
          t.httpUrl,
          admin,
          '/api/v1/audit?action=resident.list',
        )
      ).body.entries;
    expect((await rows()).map((e) => [e.actor, e.data.homes])).toEqual([
      ['duty1', ['h1', 'h2']],
      ['supervisor1', ['h1', 'h2', 'h3']],
    ]);
    await api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms: 61_000 } });
    await api(t.httpUrl, duty, '/api/v1/homes');
    expect((await rows()).filter((e) => e.actor === 'duty1')).toHaveLength(2);
  });

  it('frames are refused everywhere (CSP frame-ancestors, X-Frame-Options); no HSTS over plain HTTP', async () => {
    const t = await startHub();
    cleanup.push(() => t.stop());
    for (const path of ['/', '/api/v1/alerts', '/healthz']) {
      const res = await rawRequest(t.hub.ports.http, { path });
      expect(res.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['strict-transport-security'], path).toBeUndefined();
    }
  });

  it('HSTS when a trusted proxy says the client came over HTTPS; not when anyone else says so', async () => {
    const raw = demoRaw();
    raw.http = { trustedProxies: ['127.0.0.1'] };
    const t = await startHub({ raw });
    cleanup.push(() => t.stop());
    const headers = { 'x-forwarded-proto': 'https' };
    const viaProxy = await rawRequest(t.hub.ports.http, { path: '/healthz', headers });
    expect(viaProxy.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
    const other = await rawRequest(t.hub.ports.http, {
      path: '/healthz',
      headers,
      localAddress: '127.0.0.2',
    });
    expect(other.headers['strict-transport-security']).toBeUndefined();
  });
});
