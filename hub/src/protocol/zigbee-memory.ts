import { createHash } from 'node:crypto';

/** The state fields the hub decodes as levels: an event when one changes, nothing while it stays. */
export const ZIGBEE_LEVELS = ['contact', 'smoke', 'test', 'sos', 'tamper', 'fault', 'occupancy'] as const;
export type ZigbeeLevel = (typeof ZIGBEE_LEVELS)[number];

/**
 * What the hub keeps of a Zigbee device's reports to decode the next one: the last known value of
 * each level field, and of the last report itself its `action` and a fingerprint of the rest. It is
 * stored with every journal row made from the report (and from there in `zigbee_state`), so a
 * restarted hub compares the next report with what it had stored, not with nothing.
 */
export interface ZigbeeMemory {
  levels: Partial<Record<ZigbeeLevel, boolean>>;
  /** The last report's `action`; null when it carried none, or a cleared one (`""`, null). */
  action: string | null;
  /** Fingerprint of the last report without `action` and the fields that change with every message. */
  rest: string;
}

/**
 * Fields Zigbee2MQTT adds to every message whatever it reports (`linkquality` of the frame, and when
 * enabled `last_seen` and `elapsed`): a report that differs only in these reports nothing new.
 */
const PER_MESSAGE = new Set(['linkquality', 'last_seen', 'elapsed']);
const MAX_DEPTH = 8;

/** The report without `action`, `action_*` and the per-message fields, as a short stable digest. */
export function restFingerprint(report: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(report)
    .filter((k) => k !== 'action' && !k.startsWith('action_') && !PER_MESSAGE.has(k))
    .sort();
  const text = keys.map((k) => `${JSON.stringify(k)}:${canonical(report[k], 0)}`).join(',');
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted, so the same state gives the same text whatever the key order. */
function canonical(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return JSON.stringify(value) ?? '';
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k], depth + 1)}`)
    .join(',')}}`;
}

/** A stored memory (our own JSON, from the journal or `zigbee_state`) back to its shape; anything else is none. */
export function parseZigbeeMemory(value: unknown): ZigbeeMemory | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.rest !== 'string' || !(o.action === null || typeof o.action === 'string')) return undefined;
  if (!o.levels || typeof o.levels !== 'object' || Array.isArray(o.levels)) return undefined;
  const levels: Partial<Record<ZigbeeLevel, boolean>> = {};
  const stored = o.levels as Record<string, unknown>;
  for (const name of ZIGBEE_LEVELS) {
    const b = stored[name];
    if (typeof b === 'boolean') levels[name] = b;
  }
  return { levels, action: o.action, rest: o.rest };
}
