import type { EventType } from '../../hub/src/protocol/events.js';

export interface OneShotCommand {
  event: EventType;
  help: string;
  /** The hub answers this event with `alert.received`: wait for it and print it. */
  expectsAlert: boolean;
}

/** `carehub-sim <command> DEVICE`: one event each. */
export const ONE_SHOT_COMMANDS: Readonly<Record<string, OneShotCommand>> = {
  press: {
    event: 'sos.pressed',
    help: 'SOS pressed (waits for the alert.received reply)',
    expectsAlert: true,
  },
  cancel: {
    event: 'sos.cancelled',
    help: 'SOS cancelled on the device by the resident',
    expectsAlert: false,
  },
  checkin: { event: 'checkin', help: '"I am OK" pressed (a check-in)', expectsAlert: false },
  open: { event: 'door.opened', help: 'door opened', expectsAlert: false },
  close: { event: 'door.closed', help: 'door closed', expectsAlert: false },
  smoke: {
    event: 'smoke.detected',
    help: 'smoke detected (waits for the alert.received reply)',
    expectsAlert: true,
  },
  'smoke-clear': { event: 'smoke.cleared', help: 'smoke cleared', expectsAlert: false },
  'smoke-test': {
    event: 'smoke.test',
    help: 'smoke detector test button (recorded, never a fire)',
    expectsAlert: false,
  },
  motion: { event: 'motion.detected', help: 'movement in the home', expectsAlert: false },
  tamper: { event: 'tamper', help: 'casing opened / head removed', expectsAlert: false },
  heartbeat: { event: 'heartbeat', help: 'supervision check-in', expectsAlert: false },
};

export function oneShotCommand(name: string): OneShotCommand | undefined {
  return Object.hasOwn(ONE_SHOT_COMMANDS, name) ? ONE_SHOT_COMMANDS[name] : undefined;
}
