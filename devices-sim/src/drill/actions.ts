import type { DeviceKind } from '../../../hub/src/config/schema.js';
import type { EventType } from '../../../hub/src/protocol/events.js';

/** What a simulated device can be told to do in a drill. */
export const DEVICE_ACTIONS = [
  'press',
  'cancel',
  'checkin',
  'open',
  'close',
  'smoke',
  'smoke-clear',
  'smoke-test',
  'motion',
  'tamper',
  'battery',
  'heartbeat',
  'offline',
  'reconnect',
  'silent',
  'malformed',
  'duplicate',
] as const;
export type DeviceAction = (typeof DEVICE_ACTIONS)[number];

export interface ActionSpec {
  /** Device kinds that can do it (absent: any). */
  kinds?: readonly DeviceKind[];
  /** The CareHub event a native device sends. */
  event?: EventType;
  /** Why a device behind a Zigbee2MQTT gateway cannot do it (absent: it can). */
  notViaZigbee?: string;
  /** Why a gateway itself cannot do it (absent: it can). */
  notForGateway?: string;
  help: string;
}

const NOT_A_SENSOR = 'a gateway only relays other devices';

export const ACTION_SPECS: Readonly<Record<DeviceAction, ActionSpec>> = {
  press: {
    kinds: ['sos_button'],
    event: 'sos.pressed',
    help: 'SOS pressed (Zigbee2MQTT: action "emergency")',
  },
  cancel: {
    kinds: ['sos_button'],
    event: 'sos.cancelled',
    notViaZigbee: 'Zigbee2MQTT has no cancel action the hub decodes',
    help: 'SOS cancelled on the device',
  },
  checkin: {
    kinds: ['sos_button'],
    event: 'checkin',
    notViaZigbee: 'the hub sends check-in requests only to native devices, and decodes no check-in action',
    help: '"I am OK" pressed: answers the last check-in request the device heard (PROTOCOL.md §7)',
  },
  open: { kinds: ['door_sensor'], event: 'door.opened', help: 'door opened (Zigbee2MQTT: contact false)' },
  close: { kinds: ['door_sensor'], event: 'door.closed', help: 'door closed (Zigbee2MQTT: contact true)' },
  smoke: {
    kinds: ['smoke_detector'],
    event: 'smoke.detected',
    help: 'smoke detected (Zigbee2MQTT: smoke true)',
  },
  'smoke-clear': {
    kinds: ['smoke_detector'],
    event: 'smoke.cleared',
    help: 'smoke cleared (Zigbee2MQTT: smoke false)',
  },
  'smoke-test': {
    kinds: ['smoke_detector'],
    event: 'smoke.test',
    help: 'test button (Zigbee2MQTT: test true); never a fire',
  },
  motion: {
    kinds: ['motion_sensor'],
    event: 'motion.detected',
    help: 'movement (Zigbee2MQTT: occupancy true)',
  },
  tamper: { event: 'tamper', notForGateway: NOT_A_SENSOR, help: 'casing opened (Zigbee2MQTT: tamper true)' },
  battery: {
    event: 'heartbeat',
    notForGateway: 'a gateway is mains powered',
    help: 'report a battery level (needs `level`); later heartbeats carry it',
  },
  heartbeat: { event: 'heartbeat', help: 'one check-in (a gateway: bridge/state online)' },
  offline: {
    help: 'abrupt loss: socket dropped, the Last Will fires (Zigbee2MQTT device: availability offline; gateway: bridge/state Last Will)',
  },
  reconnect: { help: 'back online after offline or silent' },
  silent: { help: 'stops sending anything (a dead battery) while the connection, if any, stays up' },
  malformed: { help: 'a non-JSON payload: the hub must reject it and raise nothing' },
  duplicate: {
    notViaZigbee: 'Zigbee2MQTT messages carry no event id',
    notForGateway: NOT_A_SENSOR,
    help: 'the previous event again with the same id: the hub must merge it',
  },
};

/** Empty when `kind` (native or behind a gateway) can do `action`; otherwise why not. */
export function actionProblem(
  action: DeviceAction,
  kind: DeviceKind,
  viaZigbee: boolean,
): string | undefined {
  const spec = ACTION_SPECS[action];
  if (kind === 'gateway' && spec.notForGateway)
    return `${action} is not for a gateway: ${spec.notForGateway}`;
  if (spec.kinds && !spec.kinds.includes(kind))
    return `${action} needs a ${spec.kinds.join(' or ')}, not a ${kind}`;
  if (viaZigbee && spec.notViaZigbee)
    return `${action} is not possible through a Zigbee2MQTT gateway: ${spec.notViaZigbee}`;
  return undefined;
}
