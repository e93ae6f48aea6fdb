import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, problemsOf } from '../../hub/src/config/load.js';
import { NOTIFY_ALERT_KINDS } from '../../hub/src/config/notify-schema.js';
import { scrub } from '../../hub/src/delivery/channel.js';
import { RateLimits } from '../../hub/src/delivery/rate-limit.js';
import { mentionNumber } from '../../hub/src/delivery/robot-channels.js';
import { aliyunSignature, percentEncode, smsNumber } from '../../hub/src/delivery/sms-aliyun.js';
import { ALERT_KINDS } from '../../hub/src/model/alert.js';
import { checkLink, MAX_TOKEN_LENGTH, signLink } from '../../hub/src/notify/link-token.js';
import { quietUntil } from '../../hub/src/notify/plan.js';
import { notifyWarnings } from '../../hub/src/notify/warnings.js';
import { demoRaw } from '../helpers/hub.js';
import { notifyRaw } from '../helpers/notify-servers.js';

const KEY = Buffer.from('k'.repeat(32));
const NOW = Date.parse('2026-12-01T10:00:00Z');

describe('the acknowledgement link token', () => {
  const alertId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
  const claims = fc.record({
    alertId,
    contact: fc.integer({ min: 0, max: 999 }),
    exp: fc.integer({ min: NOW + 1, max: NOW + 400 * 86_400_000 }),
  });

  it('a signed token checks with its own claims, before its expiry only', () => {
    fc.assert(
      fc.property(claims, (c) => {
        const token = signLink(KEY, c);
        expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
        expect(checkLink(KEY, token, NOW)).toEqual({ ok: true, claims: c });
        expect(checkLink(KEY, token, c.exp)).toEqual({ ok: false, reason: 'expired' });
        expect(checkLink(Buffer.from('x'.repeat(32)), token, NOW)).toEqual({
          ok: false,
          reason: 'signature',
        });
      }),
      { numRuns: 300 },
    );
  });

  it('any changed character makes it fail (altered alert, contact, expiry or MAC)', () => {
    fc.assert(
      fc.property(claims, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (c, at, ch) => {
        const token = signLink(KEY, c);
        const i = at % token.length;
        const altered = token.slice(0, i) + ch + token.slice(i + 1);
        fc.pre(altered !== token);
        expect(checkLink(KEY, altered, NOW).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('one spelling only: no leading zeros in the contact or the expiry', () => {
    const token = signLink(KEY, { alertId: 'al-1', contact: 3, exp: NOW + 60_000 });
    const [a, c, e, m] = token.split('.');
    expect(checkLink(KEY, token, NOW).ok).toBe(true);
    expect(checkLink(KEY, [a, `0${c}`, e, m].join('.'), NOW).ok).toBe(false);
    expect(checkLink(KEY, [a, c, `0${e}`, m].join('.'), NOW).ok).toBe(false);
  });

  it('any input at all: never throws, never passes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.stringMatching(/^[A-Za-z0-9_-]{1,64}\.[0-9]{1,3}\.[0-9a-z]{1,11}\.[A-Za-z0-9_-]{43}$/),
          fc.anything(),
        ),
        (input) => {
          expect(checkLink(KEY, input, NOW).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
    expect(checkLink(KEY, 'a'.repeat(1_000_000), NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('channel details', () => {
  it("Alibaba Cloud's RPC signature matches its documentation's examples", () => {
    const sms = {
      AccessKeyId: 'testId',
      Action: 'SendSms',
      Format: 'XML',
      OutId: '123',
      PhoneNumbers: '15300000001',
      RegionId: 'cn-hangzhou',
      SignName: '阿里云短信测试专用',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466',
      SignatureVersion: '1.0',
      TemplateCode: 'SMS_71390007',
      TemplateParam: '{"customer":"test"}',
      Timestamp: '2017-07-12T02:42:19Z',
      Version: '2017-05-25',
    };
    expect(aliyunSignature(sms, 'testSecret', 'GET')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
    const regions = {
      Format: 'XML',
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      SignatureVersion: '1.0',
      Version: '2014-05-26',
      Timestamp: '2016-02-23T12:46:24Z',
    };
    expect(aliyunSignature(regions, 'testsecret', 'GET')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    expect(percentEncode("a b*~!'()/")).toBe('a%20b%2A~%21%27%28%29%2F');
  });

  it('phone numbers for SMS and robot mentions; answers scrubbed of addresses and numbers', () => {
    expect(smsNumber('+86 138 0000 0001')).toBe('13800000001');
    expect(smsNumber('+852 6000 0000')).toBe('85260000000');
    expect(mentionNumber('+86 139 0000 0002')).toBe('13900000002');
    expect(mentionNumber(undefined)).toBeUndefined();
    expect(scrub('550 5.1.1 <li.min@example.test>: user unknown')).toBe(
      '550 5.1.1 <<address>>: user unknown',
    );
    expect(scrub('isv.MOBILE_NUMBER_ILLEGAL 13800000001 invalid')).toBe(
      'isv.MOBILE_NUMBER_ILLEGAL <number> invalid',
    );
  });

  it('rate limits: 20 a minute per robot, refilled continuously', () => {
    let now = 0;
    const limits = new RateLimits(() => now);
    for (let i = 0; i < 20; i++) expect(limits.take('robot-a', 20)).toBe(true);
    expect(limits.take('robot-a', 20)).toBe(false);
    expect(limits.take('robot-b', 20)).toBe(true);
    expect(limits.waitMs('robot-a', 20)).toBe(3000);
    now += 2999;
    expect(limits.take('robot-a', 20)).toBe(false);
    now += 1;
    expect(limits.take('robot-a', 20)).toBe(true);
    limits.drain('robot-b', 20);
    expect(limits.take('robot-b', 20)).toBe(false);
  });
});

describe('quiet hours', () => {
  const rules = [{ kinds: ['battery_low' as const], from: '21:00', to: '08:00' }];
  const tz = 'Asia/Shanghai';
  it('hold a low battery at night until the window ends; let it through by day; never an SOS', () => {
    expect(quietUntil(rules, 'battery_low', Date.parse('2026-11-23T23:30:00+08:00'), tz)).toBe(
      Date.parse('2026-11-24T08:00:00+08:00'),
    );
    expect(quietUntil(rules, 'battery_low', Date.parse('2026-11-24T03:00:00+08:00'), tz)).toBe(
      Date.parse('2026-11-24T08:00:00+08:00'),
    );
    expect(quietUntil(rules, 'battery_low', Date.parse('2026-11-24T08:00:00+08:00'), tz)).toBeUndefined();
    expect(quietUntil(rules, 'sos', Date.parse('2026-11-24T03:00:00+08:00'), tz)).toBeUndefined();
  });

  it('the schema knows every alert kind', () => {
    expect([...NOTIFY_ALERT_KINDS].sort()).toEqual([...ALERT_KINDS].sort());
  });
});

describe('notifications configuration: bad input', () => {
  const base = () => notifyRaw(demoRaw(), { smtpPort: 2525, webhook: 'https://hooks.example.test/carehub' });
  const problems = (raw: Record<string, unknown>) => {
    try {
      parseConfig(raw, {});
      return [];
    } catch (err) {
      return problemsOf(err).map((p) => `${p.path}: ${p.message}`);
    }
  };
  const set = (raw: Record<string, unknown>, f: (n: Record<string, unknown>) => void) => {
    f(raw.notifications as Record<string, unknown>);
    return raw;
  };

  it('accepts the PROTOCOL §6 example shape', () => {
    expect(problems(base())).toEqual([]);
  });

  it('refuses a malformed webhook URL, a secret that is not whsec_, an SOS in quiet hours, steps out of order', () => {
    for (const url of ['not a url', 'ftp://hooks.example.test/x', 'http//missing-colon', '']) {
      expect(
        problems(
          set(base(), (n) => (n.webhook = { url, secret: (n.webhook as { secret: string }).secret })),
        ).join(),
      ).toMatch(/notifications\.webhook\.url/);
    }
    expect(
      problems(set(base(), (n) => ((n.webhook as Record<string, unknown>).secret = 'plain'))).join(),
    ).toMatch(/notifications\.webhook\.secret: must be "whsec_"/);
    expect(
      problems(
        set(base(), (n) => (n.quiet = [{ kinds: ['sos', 'battery_low'], from: '22:00', to: '07:00' }])),
      ).join(),
    ).toMatch(/sos and smoke always go out/);
    expect(
      problems(
        set(
          base(),
          (n) =>
            (n.ladder = [
              { after: '180s', relations: ['grid_worker'] },
              { after: '60s', relations: ['family'] },
            ]),
        ),
      ).join(),
    ).toMatch(/ladder steps must come later/);
    expect(
      problems(set(base(), (n) => (n.ladder = [{ after: 'soon', relations: ['family'] }]))).join(),
    ).toMatch(/must be a duration/);
    const raw = base();
    (
      (raw.homes as Array<{ contacts: Array<Record<string, unknown>> }>)[0]?.contacts[0] as Record<
        string,
        unknown
      >
    ).notify = ['pager'];
    expect(problems(raw).join()).toMatch(/homes\[0\]\.contacts\[0\]\.notify\[0\]/);
  });

  it('warns about a contact on the ladder that no channel reaches, and a channel a contact cannot use', () => {
    const raw = base();
    const contacts = (raw.homes as Array<{ contacts: Array<Record<string, unknown>> }>)[0]?.contacts ?? [];
    (contacts[0] as Record<string, unknown>).notify = [];
    (contacts[2] as Record<string, unknown>).notify = ['email', 'sms'];
    const warnings = notifyWarnings(parseConfig(raw, {}));
    expect(warnings).toContainEqual({
      path: 'homes[0].contacts[0]',
      message: 'on the ladder (family) but no channel can reach this contact',
    });
    expect(warnings).toContainEqual({ path: 'homes[0].contacts[2].notify', message: 'SMS: no sms settings' });
    // home h1 is set up fully; the demo's other homes list no channels (warned, as they should be)
    expect(notifyWarnings(parseConfig(base(), {})).filter((w) => w.path.startsWith('homes[0]'))).toEqual([]);
    expect(notifyWarnings(parseConfig(base(), {})).map((w) => w.path)).toContain('homes[1].contacts[0]');
  });
});
