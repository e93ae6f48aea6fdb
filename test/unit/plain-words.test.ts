import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hideSecrets } from '../../hub/src/cli/config-problems.js';
import { problemsFromIssues } from '../../hub/src/config/problems.js';
import { configSchema } from '../../hub/src/config/schema.js';
import { decodeEvent } from '../../hub/src/protocol/decode.js';
import { EVENT_TYPES } from '../../hub/src/protocol/events.js';
import { didYouMean, editDistance } from '../../hub/src/text/did-you-mean.js';
import { demoRaw } from '../helpers/hub.js';

const event = (type: string) => decodeEvent(Buffer.from(JSON.stringify({ type })), 4096);

describe('did you mean', () => {
  it('finds the intended key or value behind case, separators and small slips', () => {
    const deviceKeys = ['id', 'kind', 'secretHash', 'demoSecret', 'zigbee', 'baseTopic', 'label'];
    expect(didYouMean('secrethash', deviceKeys)).toBe('secretHash');
    expect(didYouMean('secret_hash', deviceKeys)).toBe('secretHash');
    expect(didYouMean('lable', deviceKeys)).toBe('label');
    expect(didYouMean('colour', deviceKeys)).toBeUndefined();
    expect(didYouMean('sos.press', EVENT_TYPES)).toBe('sos.pressed');
    expect(didYouMean('SOS_PRESSED', EVENT_TYPES)).toBe('sos.pressed');
    expect(didYouMean('door.open', EVENT_TYPES)).toBe('door.opened');
    expect(didYouMean('Wang Guifang', EVENT_TYPES)).toBeUndefined();
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('is a metric on short strings: zero only for equal strings, symmetric', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      }),
      { numRuns: 300 },
    );
  });
});

describe('a rejected event type in the log', () => {
  it('says nothing of the device’s text but its length and the closest valid type', () => {
    // whatever the device wrote, the log line is a function of (length, suggestion) alone
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.string({ minLength: 1, maxLength: 80 }),
        (a, b) => {
          fc.pre(
            !(EVENT_TYPES as readonly string[]).includes(a) &&
              !(EVENT_TYPES as readonly string[]).includes(b),
          );
          const ra = event(a);
          const rb = event(b);
          expect(ra.ok || rb.ok).toBe(false);
          if (ra.ok || rb.ok) return;
          expect(ra.reason).toBe('unknown_type');
          const sameShape =
            a.length === b.length && didYouMean(a, EVENT_TYPES) === didYouMean(b, EVENT_TYPES);
          if (sameShape) expect(ra.logDetail).toBe(rb.logDetail);
          expect(ra.logDetail).toContain(`expected one of ${EVENT_TYPES.join(', ')}`);
          // the dead-letter detail keeps the text (cut at 64 characters) for the operator
          expect(ra.detail).toContain(`"${a.slice(0, 64)}"`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('describes a wrong field by what it must be, and the value only by its kind', () => {
    const r = decodeEvent(Buffer.from('{"type":"heartbeat","battery":"Wang Guifang"}'), 4096);
    expect(r).toMatchObject({
      ok: false,
      reason: 'invalid_payload',
      detail: 'battery must be a number from 0 to 100; got "Wang Guifang"',
      logDetail: 'battery must be a number from 0 to 100; got a text of 12 characters',
    });
    expect(decodeEvent(Buffer.from('{"type":"heartbeat","battery":101}'), 4096)).toMatchObject({
      logDetail: 'battery must be a number from 0 to 100; got 101',
    });
    expect(decodeEvent(Buffer.from('{"id":"x"}'), 4096)).toMatchObject({
      detail: `type must be one of ${EVENT_TYPES.join(', ')}; it is missing`,
    });
  });
});

describe('configuration problems in plain words', () => {
  it('never shows a secret’s value, whatever it is and however the key is spelt', () => {
    const keys = [
      'secretHash',
      'passwordHash',
      'demoSecret',
      'password',
      'token',
      'secrethash',
      'PasswordHash',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.stringMatching(/^[A-Za-z0-9+/=$._-]{8,60}$/),
        fc.constantFrom('"', "'", ''),
        fc.constantFrom('', '   # old one: hunter22'),
        (key, value, quote, comment) => {
          for (const line of [
            `    ${key}: ${quote}${value}${quote}${comment}`,
            `  - { id: d1, ${key}: ${quote}${value}${quote} }`,
          ]) {
            const shown = hideSecrets(line);
            expect(shown, line).not.toContain(value);
            expect(shown).not.toContain('hunter22');
            expect(shown).toContain(`${key}: (hidden)`);
          }
        },
      ),
      { numRuns: 300 },
    );
    // other lines are shown as they are
    expect(hideSecrets('    kind: door_senser   # front door')).toBe('    kind: door_senser   # front door');
  });

  it('masks a wrong secret in the problem, and folds a misspelt required key into one problem', () => {
    const raw = demoRaw() as {
      homes: Array<{ devices: Array<Record<string, unknown>> }>;
      staff: Array<Record<string, unknown>>;
    };
    const device = raw.homes[0]?.devices[0] as Record<string, unknown>;
    device.secrethash = device.secretHash;
    delete device.secretHash;
    (raw.staff[0] as Record<string, unknown>).passwordHash = 'plain-text-password';
    const parsed = configSchema.safeParse(raw);
    expect(parsed.success).toBe(false);
    const problems = problemsFromIssues(parsed.error?.issues ?? [], raw, configSchema);
    expect(problems.map((p) => p.path).sort()).toEqual([
      'homes[0].devices[0].secrethash',
      'staff[0].passwordHash',
    ]);
    const pw = problems.find((p) => p.path === 'staff[0].passwordHash');
    expect(pw?.value).toBe('(hidden, 19 characters)');
    expect(JSON.stringify(problems)).not.toContain('plain-text-password');
    expect(problems.find((p) => p.path.endsWith('secrethash'))).toMatchObject({ didYouMean: 'secretHash' });
  });
});
