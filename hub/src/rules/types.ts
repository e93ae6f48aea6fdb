import type { RuleSettings } from '../config/rules-schema.js';
import type { DeviceConfig, HomeConfig } from '../config/schema.js';
import type { AlertKind, AlertRecord } from '../model/alert.js';
import type { Decision } from '../model/decision.js';
import type { HomeRhythm } from '../model/home-rhythm.js';
import type { HomeMode, HomeState } from '../model/home-state.js';
import type { DeviceEvent } from '../protocol/events.js';

export type { Decision, Note, TimedNote } from '../model/decision.js';

export interface RuleContext {
  now: number;
  /** The timer being handled fell due while the hub was down. */
  late: boolean;
  home: HomeConfig;
  tz: string;
  settings: RuleSettings;
  wanderingRisk: boolean;
  hasMotionSensor: boolean;
  device: DeviceConfig | undefined;
  state: HomeState;
  /** The home's SOS buttons the hub can send commands to (native, not behind a Zigbee2MQTT gateway). */
  askDevices: readonly string[];
  /** The home's learned rhythm and check-in record (read on first use). */
  rhythm(): HomeRhythm;
  /** The rule changed the record: it is written with the entry. */
  rhythmChanged(): void;
  openAlert(mergeKey: string): AlertRecord | undefined;
  /** Timers are per rule and home: the key only has to be unique within the rule. */
  setTimer(key: string, dueAt: number, data?: Record<string, unknown>): void;
  cancelTimer(key: string): void;
  hasTimer(key: string): boolean;
  /** When the timer is due, or undefined when there is none. */
  timerDue(key: string): number | undefined;
  /** The home's mode silences this kind of alert right now. */
  isSuppressed(kind: AlertKind): boolean;
}

/**
 * A rule: no I/O, no clock of its own. It reads the event (or its due timer) and the home's state,
 * updates its part of the state, sets timers, and returns decisions.
 */
export interface Rule {
  readonly id: string;
  /** Alerts this rule raises; used to switch it off per home and to suppress it by home mode. */
  readonly kinds: readonly AlertKind[];
  onEvent?(event: DeviceEvent, ctx: RuleContext): Decision[];
  onTimer?(key: string, data: Record<string, unknown>, ctx: RuleContext): Decision[];
  /** Make sure the rule's standing timers exist (at start and when a home is first seen). */
  ensure?(ctx: RuleContext): void;
  /** The home's mode changed (the state already has the new one). */
  onModeChange?(from: HomeMode, ctx: RuleContext): void;
  /** The hub started (after ensure): messages to devices to send again, e.g. a request still awaiting an answer. */
  onStart?(ctx: RuleContext): Decision[];
}

export const ACTIVITY_EVENTS = new Set([
  'door.opened',
  'door.closed',
  'motion.detected',
  'sos.pressed',
  'sos.cancelled',
  'checkin',
]);
