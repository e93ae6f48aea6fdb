import type { DeviceKind } from '../../hub/src/config/schema.js';
import type { EventType } from '../../hub/src/protocol/events.js';
import { ACTION_SPECS, actionProblem, type DeviceAction } from './drill/actions.js';

export interface OneShotCommand {
  /** The drill action of the same name: which device kinds may do it is decided there, once. */
  action: DeviceAction;
  event: EventType;
  help: string;
  /** The hub answers this event with `alert.received`: wait for it and print it. */
  expectsAlert: boolean;
}

/** `carehub-sim <command> DEVICE`: one event each. */
export const ONE_SHOT_COMMANDS: Readonly<Record<string, OneShotCommand>> = {
  press: {
    action: 'press',
    event: 'sos.pressed',
    help: 'SOS pressed (waits for the alert.received reply)',
    expectsAlert: true,
  },
  cancel: {
    action: 'cancel',
    event: 'sos.cancelled',
    help: 'SOS cancelled on the device by the resident',
    expectsAlert: false,
  },
  checkin: {
    action: 'checkin',
    event: 'checkin',
    help: '"I am OK" pressed (a check-in)',
    expectsAlert: false,
  },
  open: { action: 'open', event: 'door.opened', help: 'door opened', expectsAlert: false },
  close: { action: 'close', event: 'door.closed', help: 'door closed', expectsAlert: false },
  smoke: {
    action: 'smoke',
    event: 'smoke.detected',
    help: 'smoke detected (waits for the alert.received reply)',
    expectsAlert: true,
  },
  'smoke-clear': {
    action: 'smoke-clear',
    event: 'smoke.cleared',
    help: 'smoke cleared',
    expectsAlert: false,
  },
  'smoke-test': {
    action: 'smoke-test',
    event: 'smoke.test',
    help: 'smoke detector test button (recorded, never a fire)',
    expectsAlert: false,
  },
  motion: { action: 'motion', event: 'motion.detected', help: 'movement in the home', expectsAlert: false },
  tamper: { action: 'tamper', event: 'tamper', help: 'casing opened / head removed', expectsAlert: false },
  heartbeat: { action: 'heartbeat', event: 'heartbeat', help: 'supervision check-in', expectsAlert: false },
};

export function oneShotCommand(name: string): OneShotCommand | undefined {
  return Object.hasOwn(ONE_SHOT_COMMANDS, name) ? ONE_SHOT_COMMANDS[name] : undefined;
}

/** The one-shot commands a device of this kind can do (the drill rule of drill/actions.ts). */
export function commandsFor(kind: DeviceKind): string[] {
  return Object.entries(ONE_SHOT_COMMANDS)
    .filter(([, c]) => actionProblem(c.action, kind, false) === undefined)
    .map(([name]) => name);
}

/** Every command's event is its action's event: the two tables cannot drift apart. */
for (const [name, c] of Object.entries(ONE_SHOT_COMMANDS)) {
  if (ACTION_SPECS[c.action].event !== c.event)
    throw new Error(
      `carehub-sim: command ${name} sends ${c.event}, its drill action ${c.action} sends another`,
    );
}
