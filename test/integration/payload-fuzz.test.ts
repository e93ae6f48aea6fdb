import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { EVENT_TYPES } from '../../hub/src/protocol/events.js';
import { useCleanup } from '../helpers/cleanup.js';
import { connectDevice, demoRaw, deviceEvents, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Payload fuzzing: fast-check JSON for every event type, valid and hostile (`__proto__`,
 * `constructor`, `prototype` keys, numbers past double range, deep nesting, broken UTF-8, cut
 * short, oversize), published at QoS 1 to a real hub. Each payload must be accepted when valid and
 * rejected with the reason an independent oracle predicts otherwise, in order; nothing pollutes a
 * prototype; the hub stays up.
 */

const DEVICE = 'h1-sos';
const TOPIC = `carehub/v1/devices/${DEVICE}/events`;
const RUNS = 5000;
const MAX_EVENT_BYTES = 4096;
const ID = /^[A-Za-z0-9._:-]{1,64}$/;

type Verdict = 'accepted' | 'too_large' | 'not_utf8' | 'not_json' | 'invalid_payload' | 'unknown_type';

/** What the contract (PROTOCOL.md §1) says of `bytes`, written apart from the hub's decoder. */
function oracle(bytes: Buffer): Verdict {
  if (bytes.length > MAX_EVENT_BYTES) return 'too_large';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not_utf8';
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not_json';
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'invalid_payload';
  const own = (k: string): unknown => Object.getOwnPropertyDescriptor(v, k)?.value;
  const has = (k: string) => Object.hasOwn(v as object, k);
  const type = own('type');
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  const fieldsOk =
    (!has('id') || (typeof own('id') === 'string' && ID.test(own('id') as string))) &&
    (!has('ts') || (typeof own('ts') === 'string' && (own('ts') as string).length <= 64) || num(own('ts'))) &&
    (!has('battery') ||
      (num(own('battery')) && (own('battery') as number) >= 0 && (own('battery') as number) <= 100)) &&
    (!has('batteryLow') || typeof own('batteryLow') === 'boolean') &&
    (!has('rssi') || (num(own('rssi')) && Math.abs(own('rssi') as number) <= 200));
  const typeOk = typeof type === 'string' && (EVENT_TYPES as readonly string[]).includes(type);
  if (!typeOk) return typeof type === 'string' ? 'unknown_type' : 'invalid_payload';
  return fieldsOk ? 'accepted' : 'invalid_payload';
}

// ---- generators: JSON text built by hand, so numbers past double range and duplicate keys can be written
const json = (v: unknown) => JSON.stringify(v);
const huge = fc.constantFrom(
  '1e400',
  '-1e400',
  '1e308',
  '-1.7976931348623157e308',
  '123456789012345678901234567890',
  '-0',
  '5e-400',
);
const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'polluted',
);
const pollution = fc.constantFrom(
  '{"polluted":"yes"}',
  '{"prototype":{"polluted":"yes"}}',
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '[{"__proto__":{"polluted":"yes"}}]',
);
const deep = fc
  .integer({ min: 1, max: 1500 })
  .chain((d) => fc.constantFrom(`${'['.repeat(d)}${']'.repeat(d)}`, `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }).map(json), huge, pollution, deep);

const field = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<string>) =>
  fc.option(fc.oneof({ weight: 4, arbitrary: valid.map(json) }, { weight: 1, arbitrary: invalid }), {
    nil: undefined,
    freq: 2,
  });

const eventText = fc
  .record({
    type: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...EVENT_TYPES).map(json) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map(json) },
      {
        weight: 1,
        arbitrary: fc.oneof(fc.constant('null'), huge, pollution, fc.constant('["sos.pressed"]')),
      },
    ),
    id: field(
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
      fc.oneof(
        fc.string({ maxLength: 80 }).map(json),
        huge,
        fc.constant('"a b"'),
        fc.constant(json('x'.repeat(65))),
      ),
    ),
    ts: field(
      fc.oneof(fc.string({ maxLength: 64 }), fc.integer()),
      fc.oneof(huge, fc.constant(json('t'.repeat(65))), fc.constant('true')),
    ),
    battery: field(
      fc.integer({ min: 0, max: 100 }),
      fc.oneof(huge, fc.constant('101'), fc.constant('-1'), fc.constant('"full"')),
    ),
    batteryLow: field(fc.boolean(), fc.constantFrom('"yes"', '1', 'null')),
    rssi: field(
      fc.integer({ min: -120, max: 0 }),
      fc.oneof(huge, fc.constant('-201'), fc.constant('"weak"')),
    ),
    extras: fc.array(fc.tuple(fc.oneof(hostileKey, fc.string({ maxLength: 12 })), anyValue), {
      maxLength: 3,
    }),
    typeLast: fc.boolean(),
  })
  .map((r) => {
    const entries: string[] = [];
    for (const [k, v] of [
      ['id', r.id],
      ['ts', r.ts],
      ['battery', r.battery],
      ['batteryLow', r.batteryLow],
      ['rssi', r.rssi],
    ] as const) {
      if (v !== undefined) entries.push(`${json(k)}:${v}`);
    }
    for (const [k, v] of r.extras) entries.push(`${json(k)}:${v}`);
    if (r.typeLast) entries.push(`"type":${r.type}`);
    else entries.unshift(`"type":${r.type}`);
    return `{${entries.join(',')}}`;
  });

type Damage =
  | { kind: 'none' }
  | { kind: 'bad_utf8'; at: number; bytes: readonly number[] }
  | { kind: 'cut'; at: number }
  | { kind: 'pad' }
  | { kind: 'not_object'; text: string };
const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 14, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('bad_utf8' as const),
      at: fc.nat(),
      bytes: fc.constantFrom(
        [0xff],
        [0xc3, 0x28],
        [0xed, 0xa0, 0x80],
        [0xf8, 0x88, 0x80, 0x80, 0x80],
        [0xc0, 0xaf],
        [0xe2, 0x82],
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pad' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('not_object' as const),
      text: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }).map(json),
        fc.constantFrom('[]', 'null', '"sos.pressed"', '1e400', ''),
      ),
    }),
  },
);

function build(text: string, d: Damage): Buffer {
  const b = Buffer.from(text, 'utf8');
  switch (d.kind) {
    case 'none':
      return b;
    case 'bad_utf8': {
      const at = d.at % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(d.bytes), b.subarray(at)]);
    }
    case 'cut':
      return b.subarray(0, d.at % Math.max(1, b.length));
    case 'pad':
      return Buffer.from(`${text.slice(0, -1)},"pad":${json('x'.repeat(MAX_EVENT_BYTES))}}`);
    case 'not_object':
      return Buffer.from(d.text);
  }
}

describe('payload fuzzing', () => {
  const cleanup = useCleanup();

  async function metric(t: TestHub, name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
    const sel = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (sel ? rest.startsWith(`{${sel}}`) : rest.startsWith('{') || rest.startsWith(' '))
        sum += Number(line.split(' ').pop());
    }
    return sum;
  }

  it(`accepts the valid and rejects the rest with the predicted reason, for ${RUNS} generated payloads; no prototype is polluted`, {
    timeout: 120_000,
  }, async () => {
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const raw = demoRaw();
    // one device sends everything: the rate limit is off here (limits.test.ts covers it)
    raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), limits: { publishPerSecond: 0 } };
    const lines: Array<Record<string, unknown>> = [];
    const stream = {
      write(s: string) {
        for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      },
    };
    const t = await startHub({ raw, logger: createLogger('info', stream) });
    cleanup.push(() => t.stop());
    const dev = await connectDevice(t.mqttUrl, DEVICE, { protocolVersion: 4 });
    cleanup.push(() => dev.endAsync(true));

    const payloads = fc
      .sample(fc.tuple(eventText, damage), { numRuns: RUNS, seed: 4711 })
      .map(([text, d]) => build(text, d));
    const expected = payloads.map(oracle);
    const acceptedBefore =
      (await metric(t, 'carehub_ingest_events_total')) + (await metric(t, 'carehub_ingest_duplicates_total'));

    // in order on one connection, 25 in flight: every one is PUBACKed
    for (let i = 0; i < payloads.length; i += 25) {
      await Promise.all(payloads.slice(i, i + 25).map((p) => dev.publishAsync(TOPIC, p, { qos: 1 })));
    }
    expect(dev.connected).toBe(true);

    const counts = new Map<Verdict, number>();
    for (const v of expected) counts.set(v, (counts.get(v) ?? 0) + 1);
    console.log('payload fuzz verdicts:', Object.fromEntries(counts));
    for (const v of [
      'accepted',
      'too_large',
      'not_utf8',
      'not_json',
      'invalid_payload',
      'unknown_type',
    ] as const) {
      expect(counts.get(v) ?? 0, v).toBeGreaterThan(0);
    }
    expect(counts.get('accepted') ?? 0).toBeGreaterThan(RUNS / 5);

    // every rejection, in order, with the predicted reason (the dead-letter table keeps them)
    const db = new Database(join(t.dataDir, 'hub.db'), { readonly: true });
    let dead: Array<{ reason: string; payload: Buffer }>;
    try {
      dead = db.prepare('SELECT reason, payload FROM dead_letter ORDER BY id').all() as typeof dead;
    } finally {
      db.close();
    }
    const predicted = payloads
      .map((p, i) => ({ p, v: expected[i] as Verdict }))
      .filter((x) => x.v !== 'accepted');
    expect(dead.length).toBe(predicted.length);
    const mismatches = predicted
      .map((x, i) => ({
        want: x.v,
        got: dead[i]?.reason,
        same: dead[i]?.payload.equals(x.p.subarray(0, 8192)),
      }))
      .filter((m) => m.want !== m.got || !m.same);
    expect(mismatches.slice(0, 5)).toEqual([]);
    // every accepted payload was stored or merged as a duplicate (ids repeat by chance)
    const acceptedAfter =
      (await metric(t, 'carehub_ingest_events_total')) + (await metric(t, 'carehub_ingest_duplicates_total'));
    expect(acceptedAfter - acceptedBefore).toBe(counts.get('accepted'));
    // each rejection logged with its reason
    expect(
      lines.filter((l) => l.msg === 'device message rejected' && typeof l.reason === 'string'),
    ).toHaveLength(predicted.length);

    // nothing polluted
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(({} as { constructor: unknown }).constructor).toBe(Object);
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);

    // the hub is up and still takes a press
    const health = await fetch(`${t.httpUrl}/healthz`);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    await dev.publishAsync(TOPIC, JSON.stringify({ type: 'sos.pressed', id: 'after-fuzz' }), { qos: 1 });
    expect(deviceEvents(t.hub).filter((e) => e.eventId === 'after-fuzz')).toHaveLength(1);
  });
});
