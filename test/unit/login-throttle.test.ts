import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../hub/src/auth/login-throttle.js';
import { isHubError } from '../../hub/src/errors.js';
import { OriginPolicy } from '../../hub/src/http/request-guards.js';

const waitFor = (t: LoginThrottle, user: string, addr: string): number | undefined => {
  try {
    t.check(user, addr);
    return undefined;
  } catch (err) {
    if (!isHubError(err) || err.code !== 'HUB_ERR_TOO_MANY_ATTEMPTS') throw err;
    return (err.details as { retryAfterSeconds: number }).retryAfterSeconds;
  }
};

describe('LoginThrottle', () => {
  it('is free for three failures, then doubles the wait per pair up to 15 min; a success clears the pair', () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    const waits: Array<number | undefined> = [];
    for (let i = 0; i < 14; i++) {
      t.failed('admin1', '203.0.113.7');
      waits.push(waitFor(t, 'admin1', '203.0.113.7'));
      now += 3600_000;
    }
    expect(waits).toEqual([undefined, undefined, undefined, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]);
    // another address, or another name at the same address, never waits for this pair
    expect(waitFor(t, 'admin1', '203.0.113.8')).toBeUndefined();
    expect(waitFor(t, 'duty1', '203.0.113.7')).toBeUndefined();
    t.succeeded('admin1', '203.0.113.7');
    expect(waitFor(t, 'admin1', '203.0.113.7')).toBeUndefined();
  });

  it('forgets a pair a day after its last failure, and holds at most maxEntries pairs', () => {
    let now = 0;
    const t = new LoginThrottle(() => now, { maxEntries: 100 });
    for (let i = 0; i < 5; i++) t.failed('a', 'x');
    now += 24 * 3600_000 + 1;
    t.failed('a', 'x');
    expect(waitFor(t, 'a', 'x')).toBeUndefined();
    for (let i = 0; i < 500; i++) t.failed(`u${i}`, 'y');
    expect(t.size).toBeLessThanOrEqual(100);
  });
});

describe('OriginPolicy', () => {
  const req = (o: { origin?: string; host?: string; protocol?: string; site?: string }) =>
    ({
      headers: {
        ...(o.origin !== undefined ? { origin: o.origin } : {}),
        ...(o.site ? { 'sec-fetch-site': o.site } : {}),
      },
      host: o.host ?? '127.0.0.1:8080',
      protocol: o.protocol ?? 'http',
    }) as unknown as FastifyRequest;
  const refused = (p: OriginPolicy, r: FastifyRequest, cookie: boolean, change: boolean) => {
    try {
      p.check(r, cookie, change);
      return false;
    } catch (err) {
      return isHubError(err) && err.code === 'HUB_ERR_CROSS_ORIGIN';
    }
  };

  it('takes the own origin in any case and with or without the default port; refuses others on a change', () => {
    const p = new OriginPolicy(['https://console.example.org']);
    expect(refused(p, req({ origin: 'http://127.0.0.1:8080' }), true, true)).toBe(false);
    expect(
      refused(p, req({ origin: 'HTTP://Hub.Example.org', host: 'hub.example.org:80' }), true, true),
    ).toBe(false);
    expect(
      refused(
        p,
        req({ origin: 'https://hub.example.org', host: 'hub.example.org', protocol: 'https' }),
        true,
        true,
      ),
    ).toBe(false);
    expect(refused(p, req({ origin: 'https://console.example.org' }), true, true)).toBe(false);
    for (const origin of [
      'http://127.0.0.1:8081',
      'https://127.0.0.1:8080',
      'null',
      'http://127.0.0.1:8080/x',
      '',
    ])
      expect(refused(p, req({ origin }), false, true), origin).toBe(true);
  });

  it('needs Origin on a change made with the cookie, not with a bearer token; refuses cookie reads from other sites', () => {
    const p = new OriginPolicy([]);
    expect(refused(p, req({}), true, true)).toBe(true);
    expect(refused(p, req({}), false, true)).toBe(false);
    expect(refused(p, req({ site: 'cross-site' }), true, false)).toBe(true);
    expect(refused(p, req({ site: 'same-site' }), true, false)).toBe(true);
    expect(refused(p, req({ site: 'same-origin' }), true, false)).toBe(false);
    expect(refused(p, req({ site: 'cross-site' }), false, false)).toBe(false);
  });
});
