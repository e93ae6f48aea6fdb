import { didYouMean } from '../text/did-you-mean.js';
import {
  EVENT_TYPES,
  type EventPayload,
  eventPayloadSchema,
  type RejectReason,
  statusPayloadSchema,
} from './events.js';

/**
 * `detail` says what was wrong and what is expected; it may quote the device's text and goes to the
 * dead-letter table. `logDetail`, when given, is the same without the device's text, for the log
 * (a device can put anything in a field, even a resident's name).
 */
export type Decoded<T> =
  | { ok: true; value: T }
  | { ok: false; reason: RejectReason; detail: string; logDetail?: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What each field of an event must be (PROTOCOL.md §1), in the words of docs/protocol.md. */
const FIELD_RULES: Record<string, string> = {
  type: `one of ${EVENT_TYPES.join(', ')}`,
  id: '1-64 characters of A-Z a-z 0-9 . _ : -',
  ts: 'a string of at most 64 characters or a number',
  battery: 'a number from 0 to 100',
  batteryLow: 'true or false',
  rssi: 'a number from -200 to 200 (dBm)',
};

/** Bytes → JSON object, never throwing. `__proto__` keys stay plain data (JSON.parse does not assign through them). */
export function decodeJson(payload: Buffer, maxBytes: number): Decoded<Record<string, unknown>> {
  if (payload.length > maxBytes)
    return { ok: false, reason: 'too_large', detail: `${payload.length} bytes > ${maxBytes}` };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'not_utf8', detail: 'payload is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      reason: 'not_json',
      detail: 'payload is not JSON: expected one JSON object, e.g. {"type":"sos.pressed","id":"…"}',
    };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      reason: 'invalid_payload',
      detail: `payload must be a JSON object, got ${Array.isArray(value) ? 'an array' : kindOf(value)}`,
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

export function decodeEvent(payload: Buffer, maxBytes: number): Decoded<EventPayload> {
  const json = decodeJson(payload, maxBytes);
  if (!json.ok) return json;
  const parsed = eventPayloadSchema.safeParse(json.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const type = json.value.type;
  const typeIssue = parsed.error.issues.find((i) => i.path[0] === 'type');
  if (typeIssue && typeof type === 'string') return unknownType(type);
  const issue = parsed.error.issues[0];
  const field = typeof issue?.path[0] === 'string' ? issue.path[0] : undefined;
  if (field === undefined || !(field in FIELD_RULES)) {
    const where = issue ? `${issue.path.join('.') || '(root)'}: ` : '';
    return { ok: false, reason: 'invalid_payload', detail: `${where}${issue?.message ?? 'invalid'}` };
  }
  const value = json.value[field];
  const got = value === undefined ? 'it is missing' : `got ${quoted(value)}`;
  const gotForLog = value === undefined ? 'it is missing' : `got ${kindOf(value)}`;
  return {
    ok: false,
    reason: 'invalid_payload',
    detail: `${field} must be ${FIELD_RULES[field]}; ${got}`,
    logDetail: `${field} must be ${FIELD_RULES[field]}; ${gotForLog}`,
  };
}

/** The type's text is the device's: quoted in `detail`, described (length, closest type) in `logDetail`. */
function unknownType(type: string): Decoded<EventPayload> {
  const guess = didYouMean(type, EVENT_TYPES);
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  const expected = `expected one of ${EVENT_TYPES.join(', ')}`;
  return {
    ok: false,
    reason: 'unknown_type',
    detail: `unknown event type "${type.slice(0, 64)}"${type.length > 64 ? '…' : ''}${hint}; ${expected}`,
    logDetail: `unknown event type (${type.length} characters, text kept in dead_letter)${hint}; ${expected}`,
  };
}

export function decodeStatus(payload: Buffer, maxBytes: number): Decoded<'online' | 'offline'> {
  const json = decodeJson(payload, maxBytes);
  if (!json.ok) return json;
  const parsed = statusPayloadSchema.safeParse(json.value);
  if (!parsed.success)
    return {
      ok: false,
      reason: 'invalid_payload',
      detail: 'status must be {"state":"online"} or {"state":"offline"}',
    };
  return { ok: true, value: parsed.data.state };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `a text of ${value.length} characters`;
  // A battery of 101 helps the device maker; a long number might be anything (a phone number).
  if (typeof value === 'number') return Math.abs(value) < 100_000 ? `${value}` : 'a large number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A device's value, short, for the dead-letter detail. */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
