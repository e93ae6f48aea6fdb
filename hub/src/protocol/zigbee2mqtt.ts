import type { DeviceKind } from '../config/schema.js';
import type { EventPayload } from './events.js';

/** A device behind a Zigbee2MQTT gateway, as the configuration maps it. */
export interface ZigbeeDevice {
  deviceId: string;
  kind: DeviceKind;
}

const SOS_ACTIONS = new Set(['emergency', 'sos', 'single', 'double', 'hold']);

/**
 * Zigbee2MQTT publishes the whole device state on every report, so events are derived from
 * changes of a field against the last state seen (kept per device by the caller).
 * Every message counts as a heartbeat carrying battery / battery_low / linkquality.
 */
export function decodeZigbeeState(
  device: ZigbeeDevice,
  state: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
): EventPayload[] {
  const changed = (field: string, value: unknown): boolean =>
    state[field] === value && previous?.[field] !== value;
  const extras: Partial<EventPayload> = {};
  if (typeof state.battery === 'number' && state.battery >= 0 && state.battery <= 100)
    extras.battery = state.battery;
  if (typeof state.battery_low === 'boolean') extras.batteryLow = state.battery_low;
  if (typeof state.linkquality === 'number' && Number.isFinite(state.linkquality))
    extras.rssi = state.linkquality;

  const events: EventPayload[] = [];
  switch (device.kind) {
    case 'door_sensor':
      if (changed('contact', false)) events.push({ type: 'door.opened' });
      if (changed('contact', true)) events.push({ type: 'door.closed' });
      break;
    case 'smoke_detector':
      if (changed('smoke', true)) events.push({ type: 'smoke.detected' });
      if (changed('smoke', false) && previous !== undefined) events.push({ type: 'smoke.cleared' });
      if (changed('test', true)) events.push({ type: 'smoke.test' });
      break;
    case 'sos_button':
      // `action` is an event, not a state: Zigbee2MQTT sends it once per press, so no change test.
      if ((typeof state.action === 'string' && SOS_ACTIONS.has(state.action)) || changed('sos', true)) {
        events.push({ type: 'sos.pressed' });
      }
      break;
    case 'motion_sensor':
      if (state.occupancy === true) events.push({ type: 'motion.detected' });
      break;
    default:
      break;
  }
  if (changed('tamper', true)) events.push({ type: 'tamper' });
  if (events.length === 0) events.push({ type: 'heartbeat' });
  return events.map((e) => ({ ...e, ...extras }));
}

export type ZigbeeTopic =
  | { kind: 'state'; friendlyName: string }
  | { kind: 'availability'; friendlyName: string }
  /** `{base}/bridge/state`: the gateway's own availability. */
  | { kind: 'bridge_state' }
  /** Other bridge topics (info, devices, logging, responses) and `/set`, `/get`: not device reports. */
  | { kind: 'ignored' };

export function parseZigbeeTopic(base: string, topic: string): ZigbeeTopic | null {
  const prefix = `${base}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length);
  if (rest === 'bridge/state') return { kind: 'bridge_state' };
  if (rest.length === 0 || rest.startsWith('bridge/') || rest.endsWith('/set') || rest.endsWith('/get'))
    return { kind: 'ignored' };
  if (rest.endsWith('/availability'))
    return { kind: 'availability', friendlyName: rest.slice(0, -'/availability'.length) };
  return { kind: 'state', friendlyName: rest };
}
