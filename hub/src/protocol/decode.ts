import { type EventPayload, eventPayloadSchema, type RejectReason, statusPayloadSchema } from './events.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
    return { ok: false, reason: 'not_json', detail: 'payload is not JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'invalid_payload', detail: 'payload must be a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

export function decodeEvent(payload: Buffer, maxBytes: number): Decoded<EventPayload> {
  const json = decodeJson(payload, maxBytes);
  if (!json.ok) return json;
  const parsed = eventPayloadSchema.safeParse(json.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const typeIssue = parsed.error.issues.find((i) => i.path[0] === 'type');
  if (typeIssue && typeof json.value.type === 'string') {
    return {
      ok: false,
      reason: 'unknown_type',
      detail: `unknown event type "${json.value.type.slice(0, 64)}"`,
    };
  }
  const first = parsed.error.issues[0];
  return {
    ok: false,
    reason: 'invalid_payload',
    detail: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'invalid',
  };
}

export function decodeStatus(payload: Buffer, maxBytes: number): Decoded<'online' | 'offline'> {
  const json = decodeJson(payload, maxBytes);
  if (!json.ok) return json;
  const parsed = statusPayloadSchema.safeParse(json.value);
  if (!parsed.success)
    return { ok: false, reason: 'invalid_payload', detail: 'status must be {"state":"online"|"offline"}' };
  return { ok: true, value: parsed.data.state };
}
