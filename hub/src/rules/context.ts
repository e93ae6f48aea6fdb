import { type RuleSettings, resolveHomeRules } from '../config/rules-schema.js';
import type { DeviceConfig, HomeConfig } from '../config/schema.js';
import type { AlertKind, AlertRecord } from '../model/alert.js';
import type { HomeRhythm } from '../model/home-rhythm.js';
import type { HomeMode, HomeState } from '../model/home-state.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { HomeRhythmRepo } from '../store/home-rhythm-repo.js';
import type { Scheduler } from '../timers/scheduler.js';
import type { Rule, RuleContext } from './types.js';

/** Home modes silence rules, never SOS or smoke. */
export const SUPPRESSED: Record<HomeMode, ReadonlySet<AlertKind>> = {
  home: new Set(),
  away: new Set(['inactivity', 'night_exit']),
  maintenance: new Set(['device_offline', 'battery_low', 'tamper']),
};

const ENABLED_KEY: Partial<Record<string, keyof RuleSettings>> = {
  night_exit: 'nightExit',
  door_left_open: 'doorLeftOpen',
  inactivity: 'inactivity',
  device_offline: 'deviceOffline',
  battery_low: 'batteryLow',
  tamper: 'tamper',
};

/** What the rules read about a home that only its configuration decides. */
export interface HomeRules {
  tz: string;
  settings: RuleSettings;
  wanderingRisk: boolean;
  hasMotionSensor: boolean;
  /** SOS buttons the hub can send commands to (native, not behind a Zigbee2MQTT gateway). */
  askDevices: readonly string[];
  /** The rules switched on for the home, in rule order (one array shared by homes with the same set). */
  active: readonly Rule[];
}

/**
 * Worked out once per home: the configuration is deep-frozen when loaded and nothing changes it
 * while the hub runs (home modes are state, not configuration), so this caches per HomeConfig
 * object; a configuration loaded anew would be new objects, hence new entries.
 */
export class HomeRulesCache {
  readonly #homes = new WeakMap<HomeConfig, HomeRules>();
  readonly #activeSets = new Map<string, readonly Rule[]>();

  constructor(
    private readonly directory: Directory,
    private readonly rules: readonly Rule[],
  ) {}

  of(home: HomeConfig): HomeRules {
    let derived = this.#homes.get(home);
    if (!derived) {
      const settings = resolveHomeRules(this.directory.config.rules, home.rules);
      derived = {
        tz: this.directory.timezoneOf(home.id),
        settings,
        wanderingRisk: home.rules?.wanderingRisk ?? home.residents.some((r) => r.wanderingRisk),
        hasMotionSensor: home.devices.some((d) => d.kind === 'motion_sensor'),
        askDevices: home.devices.filter((d) => d.kind === 'sos_button' && !d.zigbee).map((d) => d.id),
        active: this.#active(settings),
      };
      this.#homes.set(home, derived);
    }
    return derived;
  }

  #active(settings: RuleSettings): readonly Rule[] {
    const active = this.rules.filter((rule) => {
      const key = ENABLED_KEY[rule.id];
      return !key || (settings[key] as { enabled?: boolean }).enabled !== false;
    });
    const id = active.map((r) => r.id).join(',');
    const shared = this.#activeSets.get(id);
    if (shared) return shared;
    this.#activeSets.set(id, active);
    return active;
  }
}

/**
 * The context of one event or timer in one home. One object serves the rules in turn: `use`
 * switches it to the next rule (its timers are namespaced `<rule>:<home>:<key>`).
 */
export class RuleCtx implements RuleContext {
  readonly tz: string;
  readonly settings: RuleSettings;
  readonly wanderingRisk: boolean;
  readonly hasMotionSensor: boolean;
  readonly askDevices: readonly string[];
  readonly #scheduler: Scheduler;
  readonly #alerts: AlertRepo;
  readonly #rhythms: HomeRhythmRepo;
  #rhythm: HomeRhythm | undefined;
  /** A rule changed the rhythm record: the runtime writes it. */
  rhythmDirty = false;
  #rule = '';

  constructor(
    scheduler: Scheduler,
    alerts: AlertRepo,
    rhythms: HomeRhythmRepo,
    readonly home: HomeConfig,
    derived: HomeRules,
    readonly state: HomeState,
    readonly now: number,
    readonly late: boolean,
    readonly device: DeviceConfig | undefined,
  ) {
    this.#scheduler = scheduler;
    this.#alerts = alerts;
    this.#rhythms = rhythms;
    this.tz = derived.tz;
    this.settings = derived.settings;
    this.wanderingRisk = derived.wanderingRisk;
    this.hasMotionSensor = derived.hasMotionSensor;
    this.askDevices = derived.askDevices;
  }

  rhythm(): HomeRhythm {
    this.#rhythm ??= this.#rhythms.load(this.home.id, this.now);
    return this.#rhythm;
  }

  rhythmChanged(): void {
    this.rhythmDirty = true;
  }

  /** Write the rhythm record if a rule changed it (in the applier's unit of work). */
  saveRhythm(): void {
    if (this.rhythmDirty && this.#rhythm) this.#rhythms.save(this.home.id, this.#rhythm);
    this.rhythmDirty = false;
  }

  use(rule: Rule): this {
    this.#rule = rule.id;
    return this;
  }

  openAlert(mergeKey: string): AlertRecord | undefined {
    return this.#alerts.findOpen(mergeKey);
  }

  setTimer(key: string, dueAt: number, data: Record<string, unknown> = {}): void {
    this.#scheduler.set({
      key: this.#key(key),
      homeId: this.home.id,
      dueAt,
      data: { ...data, owner: 'rule', rule: this.#rule, key },
    });
  }

  cancelTimer(key: string): void {
    this.#scheduler.cancel(this.#key(key));
  }

  hasTimer(key: string): boolean {
    return this.#scheduler.has(this.#key(key));
  }

  timerDue(key: string): number | undefined {
    return this.#scheduler.dueAt(this.#key(key));
  }

  isSuppressed(kind: AlertKind): boolean {
    return SUPPRESSED[this.state.mode].has(kind);
  }

  #key(key: string): string {
    return `${this.#rule}:${this.home.id}:${key}`;
  }
}
