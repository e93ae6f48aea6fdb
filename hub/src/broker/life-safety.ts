import { parseDeviceTopic } from '../protocol/topics.js';
import { ZIGBEE_SOS_ACTIONS } from '../protocol/zigbee2mqtt.js';

const LIFE_SAFETY_TYPES = new Set(['sos.pressed', 'smoke.detected']);
const MAX_PEEK_BYTES = 65_536;

/**
 * Whether a publish may carry a life-safety event (`sos.pressed`, `smoke.detected`, or their
 * Zigbee2MQTT forms). Such a publish is never dropped by the rate limit; it is only looked at when a
 * client is over its limit, so the common path pays nothing. Errs on the side of "yes": the payload is
 * validated properly by ingest afterwards.
 */
export function mayBeLifeSafety(topic: string, payload: Buffer): boolean {
  if (payload.length > MAX_PEEK_BYTES) return false;
  const text = payload.toString('utf8');
  const device = parseDeviceTopic(topic);
  if (device) {
    if (device.channel !== 'events') return false;
    if (!text.includes('sos.pressed') && !text.includes('smoke.detected')) return false;
    const value = parse(text);
    return value !== undefined && typeof value.type === 'string' && LIFE_SAFETY_TYPES.has(value.type);
  }
  // A gateway's Zigbee2MQTT state.
  if (!text.includes('smoke') && !text.includes('sos') && !text.includes('action')) return false;
  const value = parse(text);
  if (!value) return false;
  return (
    value.smoke === true ||
    value.sos === true ||
    (typeof value.action === 'string' && ZIGBEE_SOS_ACTIONS.has(value.action))
  );
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
