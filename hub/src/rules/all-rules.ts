import { batteryLowRule } from './battery-low.js';
import { deviceOfflineRule } from './device-offline.js';
import { doorLeftOpenRule } from './door-left-open.js';
import { inactivityRule } from './inactivity.js';
import { nightExitRule } from './night-exit.js';
import { smokeRule } from './smoke.js';
import { sosRule } from './sos.js';
import { tamperRule } from './tamper.js';
import type { Rule } from './types.js';

/** Order matters only for decisions on the same event: life-safety first. */
export const ALL_RULES: readonly Rule[] = [
  smokeRule,
  sosRule,
  nightExitRule,
  doorLeftOpenRule,
  inactivityRule,
  deviceOfflineRule,
  tamperRule,
  batteryLowRule,
];
