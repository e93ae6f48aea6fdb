import { describe, expect, it } from 'vitest';
import { decodeEvent, decodeJson, decodeStatus } from '../../hub/src/protocol/decode.js';
import { EVENT_TYPES } from '../../hub/src/protocol/events.js';

const MAX = 4096;
const b = (s: string) => Buffer.from(s, 'utf8');

describe('decodeEvent', () => {
  it('accepts every event type of the contract with its optional fields, and keeps extra device fields', () => {
    for (const type of EVENT_TYPES) {
      const r = decodeEvent(b(JSON.stringify({ type })), MAX);
      expect(r).toEqual({ ok: true, value: { type } });
    }
    const full = {
      type: 'heartbeat',
      id: 'msg-1.a_b',
      ts: '2026-11-26T09:30:00.000+08:00',
      battery: 87,
      batteryLow: false,
      rssi: -71,
      fw: '1.2.3',
    };
    expect(decodeEvent(b(JSON.stringify(full)), MAX)).toEqual({ ok: true, value: full });
    expect(decodeEvent(b('{"type":"sos.pressed","ts":1764120600000}'), MAX)).toMatchObject({
      ok: true,
      value: { ts: 1764120600000 },
    });
  });

  it('rejects bytes that are not UTF-8 as not_utf8', () => {
    for (const bytes of [
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      Buffer.from([0xed, 0xa0, 0x80]),
    ]) {
      expect(decodeEvent(bytes, MAX)).toMatchObject({ ok: false, reason: 'not_utf8' });
    }
  });

  it('rejects text that is not JSON as not_json', () => {
    for (const text of [
      '',
      'sos',
      '{type: "sos.pressed"}',
      '{"type":"sos.pressed"',
      "{'type':'sos.pressed'}",
      'NaN',
    ]) {
      expect(decodeEvent(b(text), MAX), text).toMatchObject({ ok: false, reason: 'not_json' });
    }
  });

  it('rejects JSON that is not an object (arrays, scalars, null)', () => {
    for (const text of ['[]', '[{"type":"sos.pressed"}]', '"sos.pressed"', '42', 'true', 'null']) {
      const r = decodeEvent(b(text), MAX);
      expect(r, text).toMatchObject({ ok: false, reason: 'invalid_payload' });
    }
  });

  it('rejects an unknown type as unknown_type, naming it (cut short)', () => {
    const r = decodeEvent(b('{"type":"sos.maybe"}'), MAX);
    expect(r).toMatchObject({ ok: false, reason: 'unknown_type' });
    expect(!r.ok && r.detail).toContain('sos.maybe');
    const long = decodeEvent(b(JSON.stringify({ type: 'x'.repeat(1000) })), MAX);
    expect(long).toMatchObject({ ok: false, reason: 'unknown_type' });
    // the device's text is cut at 64 characters; the rest of the detail is the list of valid types
    expect(!long.ok && long.detail).toContain(`"${'x'.repeat(64)}"…`);
    expect(!long.ok && long.detail).not.toContain('x'.repeat(65));
    expect(!long.ok && long.detail.length).toBeLessThan(300);
    // case matters: the contract's names are exact
    expect(decodeEvent(b('{"type":"SOS.PRESSED"}'), MAX)).toMatchObject({
      ok: false,
      reason: 'unknown_type',
    });
  });

  it('rejects a missing or non-string type and wrong field types as invalid_payload, naming the field', () => {
    const cases: Array<[string, string]> = [
      ['{}', 'type'],
      ['{"type":5}', 'type'],
      ['{"type":null}', 'type'],
      ['{"type":["sos.pressed"]}', 'type'],
      ['{"type":"sos.pressed","battery":"full"}', 'battery'],
      ['{"type":"heartbeat","battery":101}', 'battery'],
      ['{"type":"heartbeat","battery":-1}', 'battery'],
      ['{"type":"heartbeat","batteryLow":"yes"}', 'batteryLow'],
      ['{"type":"heartbeat","rssi":"-70"}', 'rssi'],
      ['{"type":"sos.pressed","id":42}', 'id'],
      ['{"type":"sos.pressed","id":""}', 'id'],
      ['{"type":"sos.pressed","id":"has space"}', 'id'],
      [`{"type":"sos.pressed","id":"${'a'.repeat(65)}"}`, 'id'],
      ['{"type":"sos.pressed","ts":{"at":1}}', 'ts'],
    ];
    for (const [text, field] of cases) {
      const r = decodeEvent(b(text), MAX);
      expect(r, text).toMatchObject({ ok: false, reason: 'invalid_payload' });
      expect(!r.ok && r.detail, text).toContain(field);
    }
  });

  it('rejects a payload over the byte limit as too_large before parsing it', () => {
    const big = b(JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(MAX) }));
    expect(decodeEvent(big, MAX)).toMatchObject({ ok: false, reason: 'too_large' });
    // exactly at the limit is fine
    const padTo = (n: number) => {
      const base = JSON.stringify({ type: 'heartbeat', pad: '' });
      return b(JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(n - base.length) }));
    };
    expect(padTo(MAX).length).toBe(MAX);
    expect(decodeEvent(padTo(MAX), MAX).ok).toBe(true);
    expect(decodeEvent(padTo(MAX + 1), MAX)).toMatchObject({ ok: false, reason: 'too_large' });
    // non-JSON garbage over the limit is too_large, not not_json (the cheaper check first)
    expect(decodeEvent(Buffer.alloc(MAX + 1, 0xff), MAX)).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('never lets __proto__ or constructor keys pollute prototypes or the decoded value', () => {
    const payloads = [
      '{"type":"heartbeat","__proto__":{"polluted":true}}',
      '{"type":"heartbeat","constructor":{"prototype":{"polluted":true}}}',
      '{"__proto__":{"type":"sos.pressed"}}',
      '{"type":"heartbeat","nested":{"__proto__":{"polluted":true}}}',
    ];
    for (const text of payloads) {
      const r = decodeEvent(b(text), MAX);
      const plain: Record<string, unknown> = {};
      expect(plain.polluted, text).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).polluted, text).toBeUndefined();
      if (r.ok) {
        const proto = Object.getPrototypeOf(r.value) as unknown;
        expect(proto === Object.prototype || proto === null, text).toBe(true);
        expect((r.value as Record<string, unknown>).polluted, text).toBeUndefined();
        expect(r.value.type).toBe('heartbeat');
      }
    }
    // a type smuggled in through __proto__ is not a type
    expect(decodeEvent(b('{"__proto__":{"type":"sos.pressed"}}'), MAX)).toMatchObject({
      ok: false,
      reason: 'invalid_payload',
    });
    const json = decodeJson(b('{"__proto__":{"polluted":1}}'), MAX);
    expect(json.ok && (json.value as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('decodeStatus', () => {
  it('accepts the two contract forms, extra fields tolerated', () => {
    expect(decodeStatus(b('{"state":"online"}'), MAX)).toEqual({ ok: true, value: 'online' });
    expect(decodeStatus(b('{"state":"offline","reason":"will"}'), MAX)).toEqual({
      ok: true,
      value: 'offline',
    });
  });

  it('rejects everything else with a counted reason', () => {
    expect(decodeStatus(Buffer.from([0xc3, 0x28]), MAX)).toMatchObject({ ok: false, reason: 'not_utf8' });
    expect(decodeStatus(b('online'), MAX)).toMatchObject({ ok: false, reason: 'not_json' });
    expect(decodeStatus(b('["online"]'), MAX)).toMatchObject({ ok: false, reason: 'invalid_payload' });
    expect(decodeStatus(b('{"state":"asleep"}'), MAX)).toMatchObject({
      ok: false,
      reason: 'invalid_payload',
    });
    expect(decodeStatus(b('{"state":true}'), MAX)).toMatchObject({ ok: false, reason: 'invalid_payload' });
    expect(decodeStatus(b('{}'), MAX)).toMatchObject({ ok: false, reason: 'invalid_payload' });
    expect(decodeStatus(b(JSON.stringify({ state: 'online', pad: 'x'.repeat(MAX) })), MAX)).toMatchObject({
      ok: false,
      reason: 'too_large',
    });
    expect(decodeStatus(b('{"__proto__":{"state":"online"}}'), MAX)).toMatchObject({
      ok: false,
      reason: 'invalid_payload',
    });
  });
});
