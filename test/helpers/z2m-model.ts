import fc from 'fast-check';

/**
 * A Zigbee2MQTT bridge with an SOS pendant and a smoke detector, as it publishes (cache_state: true,
 * its default): every message is the device's whole cached state with the new fields merged in, plus
 * the frame's `linkquality`. `action` is not cached by Zigbee2MQTT (lib/state.ts), so it is only in
 * the message of a press; `cachesAction` plays a gateway that does cache it and repeats it in every
 * later report until something clears it. The smoke detector speaks IAS zone status
 * (fz.ias_smoke_alarm_1): a test press sets the alarm bit and the test bit.
 *
 * The model also says what the hub must make of it: one `sos.pressed` per press, one
 * `smoke.detected` per fire the detector reports outside test mode, none for a test.
 */
export type Z2mStep =
  | { do: 'press'; action: string }
  | { do: 'release' }
  | { do: 'clear'; value: '' | null }
  | { do: 'battery'; device: 'pendant' | 'smoke'; level: number }
  | { do: 'testStart' }
  | { do: 'testEnd' }
  | { do: 'fire' }
  | { do: 'fireOut' }
  | { do: 'trouble'; on: boolean }
  | { do: 'z2mRestart' }
  | { do: 'hubRestart' };

export interface Z2mMessage {
  device: 'pendant' | 'smoke';
  payload: Record<string, unknown>;
  /** This message is the pendant's press. */
  press: boolean;
  /** The detector is in test mode in this message. */
  testing: boolean;
}

export const SOS_PRESS_ACTIONS = ['emergency', 'sos', 'single', 'double', 'hold', 'long'] as const;

export const z2mStep: fc.Arbitrary<Z2mStep> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(...SOS_PRESS_ACTIONS).map((action) => ({ do: 'press' as const, action })),
  },
  { weight: 1, arbitrary: fc.constant({ do: 'release' as const }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('' as const, null).map((value) => ({ do: 'clear' as const, value })),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      do: fc.constant('battery' as const),
      device: fc.constantFrom('pendant' as const, 'smoke' as const),
      level: fc.integer({ min: 60, max: 64 }), // small range: reports that change nothing happen too
    }),
  },
  { weight: 2, arbitrary: fc.constant({ do: 'testStart' as const }) },
  { weight: 2, arbitrary: fc.constant({ do: 'testEnd' as const }) },
  { weight: 2, arbitrary: fc.constant({ do: 'fire' as const }) },
  { weight: 2, arbitrary: fc.constant({ do: 'fireOut' as const }) },
  { weight: 1, arbitrary: fc.boolean().map((on) => ({ do: 'trouble' as const, on })) },
  { weight: 1, arbitrary: fc.constant({ do: 'z2mRestart' as const }) },
  { weight: 2, arbitrary: fc.constant({ do: 'hubRestart' as const }) },
);

/** The fields of a report that say something: without action and the per-message fields. */
function rest(payload: Record<string, unknown>): string {
  const keys = Object.keys(payload)
    .filter((k) => k !== 'action' && k !== 'linkquality')
    .sort();
  return JSON.stringify(keys.map((k) => [k, payload[k]]));
}

export class Z2mModel {
  readonly #pendant: Record<string, unknown> = { battery: 100, voltage: 3000 };
  readonly #smoke: Record<string, unknown> = {
    battery: 100,
    smoke: false,
    tamper: false,
    battery_low: false,
    supervision_reports: true,
    restore_reports: true,
    trouble: false,
    ac_status: false,
    test: false,
    battery_defect: false,
  };
  /** The action an action-caching gateway repeats (null once cleared). */
  #cachedAction: string | null = null;
  #fire = false;
  #testing = false;
  /** The hub has been shown the fire that is on (in a reading outside test mode). */
  #announced = false;
  #testShown = false;
  #lq = 100;
  #lastPendant: { rest: string; action: string | null } | undefined;
  readonly expected = { presses: 0, fires: 0, tests: 0, ambiguous: 0 };

  constructor(readonly cachesAction: boolean) {}

  /** The messages the bridge publishes for a step (a hub restart publishes nothing). */
  apply(step: Z2mStep): Z2mMessage[] {
    switch (step.do) {
      case 'press':
        if (this.cachesAction) this.#cachedAction = step.action;
        return [this.#pendantMessage(step.action, true)];
      case 'release':
        if (this.cachesAction) this.#cachedAction = 'off';
        return [this.#pendantMessage('off', false)];
      case 'clear':
        // Zigbee2MQTT's legacy action sensor publishes `action: ""` after each action.
        this.#cachedAction = null;
        return [this.#pendantMessage(step.value, false)];
      case 'battery':
        if (step.device === 'pendant') {
          this.#pendant.battery = step.level;
          return [this.#pendantMessage(this.#cachedAction ?? undefined, false)];
        }
        this.#smoke.battery = step.level;
        return [this.#smokeMessage()];
      case 'testStart':
        this.#testing = true;
        return [this.#smokeMessage()];
      case 'testEnd':
        this.#testing = false;
        return [this.#smokeMessage()];
      case 'fire':
        this.#fire = true;
        return [this.#smokeMessage()];
      case 'fireOut':
        this.#fire = false;
        return [this.#smokeMessage()];
      case 'trouble':
        this.#smoke.trouble = step.on;
        return [this.#smokeMessage()];
      case 'z2mRestart':
        // cache_state_send_on_startup: every cached state once more.
        return [this.#pendantMessage(this.#cachedAction ?? undefined, false), this.#smokeMessage()];
      case 'hubRestart':
        return [];
    }
  }

  /** `action` undefined: the message has no action field; null or "": a cleared one. */
  #pendantMessage(action: string | null | undefined, press: boolean): Z2mMessage {
    const payload: Record<string, unknown> = { ...this.#pendant, linkquality: this.#nextLq() };
    if (action !== undefined) payload.action = action;
    const r = rest(payload);
    const value = typeof action === 'string' && action !== '' ? action : null;
    if (press) this.expected.presses++;
    else if (value !== null && (SOS_PRESS_ACTIONS as readonly string[]).includes(value)) {
      // Only an action-caching gateway repeats an SOS action outside a press. When the report says
      // nothing else (same fields as the last one), it cannot be told from a press and counts as one
      // (docs/protocol.md); with anything else new it is a repeat and counts nothing.
      const last = this.#lastPendant;
      if (last?.action !== value || last.rest === r) this.expected.ambiguous++;
    }
    this.#lastPendant = { rest: r, action: value };
    return { device: 'pendant', payload, press, testing: false };
  }

  #smokeMessage(): Z2mMessage {
    // IAS zone status: alarm bit while smoke or while testing; test bit while testing.
    this.#smoke.smoke = this.#fire || this.#testing;
    this.#smoke.test = this.#testing;
    if (this.#testing && !this.#testShown) this.expected.tests++;
    this.#testShown = this.#testing;
    if (!this.#testing) {
      if (this.#fire && !this.#announced) {
        this.expected.fires++;
        this.#announced = true;
      }
      if (!this.#fire) this.#announced = false;
    }
    return {
      device: 'smoke',
      payload: { ...this.#smoke, linkquality: this.#nextLq() },
      press: false,
      testing: this.#testing,
    };
  }

  #nextLq(): number {
    this.#lq = this.#lq >= 250 ? 40 : this.#lq + 37;
    return this.#lq;
  }
}
