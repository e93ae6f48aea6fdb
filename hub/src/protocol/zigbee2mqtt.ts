import type { DeviceKind } from '../config/schema.js';
import type { EventPayload } from './events.js';
import { restFingerprint, type ZigbeeLevel, type ZigbeeMemory } from './zigbee-memory.js';

/** A device behind a Zigbee2MQTT gateway, as the configuration maps it. */
export interface ZigbeeDevice {
  deviceId: string;
  kind: DeviceKind;
}

/**
 * `action` values that are an SOS press on an `sos_button`: emergency and panic buttons
 * (`command_emergency`, `command_panic`, Tuya SOS datapoints: `emergency`, `sos`, `panic`), and the
 * presses of plain buttons used as pendants (`single`, `double`, `hold`, and SONOFF / Frient `long`).
 * Not `off` or `release` (a button let go), nor arm/disarm of a keypad.
 */
export const ZIGBEE_SOS_ACTIONS: ReadonlySet<string> = new Set([
  'emergency',
  'sos',
  'panic',
  'single',
  'double',
  'hold',
  'long',
]);

export interface ZigbeeDecoded {
  events: EventPayload[];
  /** What to keep of this report for the next one (see ZigbeeMemory). */
  memory: ZigbeeMemory;
}

/**
 * One Zigbee2MQTT state report → CareHub events, against what the hub kept of the device's earlier
 * reports (`memory`; undefined when it has none). Zigbee2MQTT repeats every cached field in every
 * report, so state fields are levels: an event when the field changes from what the hub stored,
 * nothing while it stays. `action` is not cached by Zigbee2MQTT: it is a press each time it comes,
 * except when the previous report carried the same action and this one reports something else (a
 * gateway repeating a cached action along with a battery report). A smoke detector in test mode
 * (`test`, `self_test`) reports a test, never smoke. Every report is at least a heartbeat carrying
 * battery / battery_low / linkquality. docs/protocol.md, "Decoding", has the rules and the models.
 */
export function decodeZigbeeReport(
  device: ZigbeeDevice,
  report: Readonly<Record<string, unknown>>,
  memory: ZigbeeMemory | undefined,
): ZigbeeDecoded {
  const was = memory?.levels ?? {};
  const levels: Partial<Record<ZigbeeLevel, boolean>> = { ...was };
  const rest = restFingerprint(report);
  const action = typeof report.action === 'string' && report.action !== '' ? report.action : null;
  const events: EventPayload[] = [];
  const bool = (field: string): boolean | undefined =>
    typeof report[field] === 'boolean' ? (report[field] as boolean) : undefined;
  const rose = (level: ZigbeeLevel, now: boolean | undefined): boolean => {
    if (now === undefined) return false;
    levels[level] = now;
    return now && was[level] !== true;
  };

  switch (device.kind) {
    case 'door_sensor': {
      const contact = bool('contact');
      if (contact !== undefined) {
        levels.contact = contact;
        if (contact !== was.contact) events.push({ type: contact ? 'door.closed' : 'door.opened' });
      }
      break;
    }
    case 'smoke_detector': {
      const testing = testMode(report);
      if (rose('test', testing)) events.push({ type: 'smoke.test' });
      // In test mode the detector sounds and sets its alarm bit (IAS zone status alarm1 + test):
      // that is the test, not a smoke reading. The stored smoke level stays what it was.
      const smoke = bool('smoke');
      if (testing !== true && smoke !== undefined) {
        if (smoke && was.smoke !== true) events.push({ type: 'smoke.detected' });
        if (!smoke && was.smoke === true) events.push({ type: 'smoke.cleared' });
        levels.smoke = smoke;
      }
      break;
    }
    case 'sos_button': {
      const repeat = memory !== undefined && memory.action === action && memory.rest !== rest;
      const pressed = action !== null && ZIGBEE_SOS_ACTIONS.has(action) && !repeat;
      // `sos` (IAS zone alarm 2 of SOS buttons) is a cached state field: a level.
      if (rose('sos', bool('sos')) || pressed) events.push({ type: 'sos.pressed' });
      break;
    }
    case 'motion_sensor':
      // Cached like any state: a battery report repeats `occupancy: true` until it is cleared.
      if (rose('occupancy', bool('occupancy'))) events.push({ type: 'motion.detected' });
      break;
    default:
      break;
  }
  const tamper = rose('tamper', bool('tamper'));
  const fault = rose('fault', faultState(report));
  // A device fault (IAS trouble, a failed self-test, a sensor fault) needs a visit like an opened case.
  if (tamper || fault) events.push({ type: 'tamper' });
  if (events.length === 0) events.push({ type: 'heartbeat' });

  const extras: Partial<EventPayload> = {};
  if (typeof report.battery === 'number' && report.battery >= 0 && report.battery <= 100)
    extras.battery = report.battery;
  const batteryLow = bool('battery_low');
  // IAS battery_defect: the battery must be replaced, which is what the low-battery alert asks for.
  if (batteryLow !== undefined || report.battery_defect === true)
    extras.batteryLow = batteryLow === true || report.battery_defect === true;
  if (typeof report.linkquality === 'number' && Number.isFinite(report.linkquality))
    extras.rssi = report.linkquality;
  return { events: events.map((e) => ({ ...e, ...extras })), memory: { levels, action, rest } };
}

/**
 * Whether the detector is testing itself: IAS zone status bit 8 (`test`; Xiaomi's bit 1, Aqara's
 * attribute), Tuya `self_test` (true, or `checking`) and `self_test_result: checking`. Undefined
 * when the report has none of these fields.
 */
function testMode(r: Readonly<Record<string, unknown>>): boolean | undefined {
  const signs: boolean[] = [];
  if (typeof r.test === 'boolean') signs.push(r.test);
  if (typeof r.self_test === 'boolean') signs.push(r.self_test);
  else if (typeof r.self_test === 'string') signs.push(r.self_test === 'checking');
  if (typeof r.self_test_result === 'string') signs.push(r.self_test_result === 'checking');
  return signs.length === 0 ? undefined : signs.includes(true);
}

/**
 * Whether the device reports a fault: IAS `trouble`, Frient `fault` and `reliability`, Tuya
 * `fault_alarm`, `device_fault` and a failed self-test, Heiman `fault_state`. Undefined when the
 * report has none of these fields. Not faults: `supervision_reports` and `restore_reports` (what the
 * zone is able to report) and `ac_status` (mains, on battery detectors).
 */
function faultState(r: Readonly<Record<string, unknown>>): boolean | undefined {
  const signs: boolean[] = [];
  for (const field of ['trouble', 'fault', 'fault_alarm', 'device_fault'])
    if (typeof r[field] === 'boolean') signs.push(r[field] as boolean);
  if (typeof r.fault_state === 'string') signs.push(r.fault_state !== 'normal');
  if (typeof r.reliability === 'string') signs.push(r.reliability !== 'no_fault_detected');
  if (typeof r.self_test_result === 'string') signs.push(r.self_test_result === 'failure');
  if (typeof r.self_test === 'string') signs.push(r.self_test === 'check_failure');
  return signs.length === 0 ? undefined : signs.includes(true);
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
