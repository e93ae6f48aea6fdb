import { createRequire } from 'node:module';

/**
 * `require` for mqtt-packet's files, resolved from aedes itself: the copy aedes loads, whether npm
 * hoisted it or nested it under aedes.
 */
export const requireFromMqttPacket: NodeJS.Require = createRequire(
  createRequire(import.meta.resolve('aedes')).resolve('mqtt-packet'),
);

/** `require` for aedes' own dependencies (aedes-persistence, aedes-packet): the copies aedes loads. */
export const requireFromAedes: NodeJS.Require = createRequire(import.meta.resolve('aedes'));
