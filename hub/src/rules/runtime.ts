import type { AlertChange, AlertService } from '../alerts/alert-service.js';
import type { AlertKind } from '../alerts/types.js';
import { type RuleSettings, resolveHomeRules } from '../config/rules-schema.js';
import type { DeviceConfig, HomeConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DeviceEvent } from '../protocol/events.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { HomeMode, HomeState, HomeStateRepo } from './home-state.js';
import type { Scheduler } from './scheduler.js';
import type { TimerRow } from './timer-store.js';
import { ACTIVITY_EVENTS, type Decision, type Rule, type RuleContext } from './types.js';

/** Home modes silence rules, never SOS or smoke. */
const SUPPRESSED: Record<HomeMode, ReadonlySet<AlertKind>> = {
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

/**
 * Runs the rules: keeps each home's state, gives each rule a context with namespaced persisted
 * timers, filters decisions by home mode, and hands them to the alert service. All of it runs
 * inside the caller's transaction.
 */
export class RulesRuntime {
  readonly #settings = new Map<string, RuleSettings>();
  readonly #byId: Map<string, Rule>;

  constructor(
    private readonly directory: Directory,
    private readonly homeStates: HomeStateRepo,
    private readonly scheduler: Scheduler,
    private readonly alerts: AlertService,
    private readonly alertRepo: AlertRepo,
    private readonly rules: readonly Rule[],
    private readonly log: Logger,
  ) {
    this.#byId = new Map(rules.map((r) => [r.id, r]));
  }

  settingsFor(home: HomeConfig): RuleSettings {
    let s = this.#settings.get(home.id);
    if (!s) {
      s = resolveHomeRules(this.directory.config.rules, home.rules);
      this.#settings.set(home.id, s);
    }
    return s;
  }

  stateOf(homeId: string, now: number): HomeState {
    return this.homeStates.load(homeId, now);
  }

  onEvent(event: DeviceEvent): AlertChange[] {
    const home = this.directory.home(event.homeId);
    if (!home) return [];
    const state = this.homeStates.load(home.id, event.at);
    const device = this.directory.device(event.deviceId)?.device;
    const decisions: Decision[] = [];
    for (const rule of this.#active(home)) {
      if (!rule.onEvent) continue;
      const ctx = this.#context(rule, home, state, event.at, false, device);
      this.#guard(rule, event.seq, () => decisions.push(...(rule.onEvent?.(event, ctx) ?? [])));
    }
    applyCommonState(state, event);
    this.homeStates.save(home.id, state);
    return this.#apply(home, state, decisions, event.at, false);
  }

  /** A rule timer fell due. Runs inside the caller's transaction. */
  onTimer(timer: TimerRow, now: number, late: boolean): AlertChange[] {
    const rule = this.#byId.get(String(timer.data.rule));
    const home = this.directory.home(timer.homeId);
    this.scheduler.cancel(timer.key);
    if (!rule?.onTimer || !home || !this.#enabled(rule, home)) return [];
    const state = this.homeStates.load(home.id, now);
    const ctx = this.#context(rule, home, state, now, late, undefined);
    const decisions: Decision[] = [];
    this.#guard(rule, timer.key, () =>
      decisions.push(...(rule.onTimer?.(String(timer.data.key), timer.data, ctx) ?? [])),
    );
    this.homeStates.save(home.id, state);
    return this.#apply(home, state, decisions, now, late);
  }

  /** Make sure every home's standing timers exist (idempotent). */
  ensureAll(now: number): void {
    for (const home of this.directory.homes()) {
      const state = this.homeStates.load(home.id, now);
      for (const rule of this.#active(home)) {
        if (rule.ensure)
          this.#guard(rule, home.id, () =>
            rule.ensure?.(this.#context(rule, home, state, now, false, undefined)),
          );
      }
      this.homeStates.save(home.id, state);
    }
  }

  /** Home mode change (away, maintenance, home). Returning home starts the activity count afresh. */
  setMode(homeId: string, mode: HomeMode, until: number | null, now: number): HomeState {
    const home = this.directory.home(homeId);
    if (!home) throw new Error(`no home ${homeId}`);
    const state = this.homeStates.load(homeId, now);
    const wasAway = state.mode === 'away';
    state.mode = mode;
    state.modeUntil = until;
    const modeKey = `mode:${homeId}`;
    if (until !== null) this.scheduler.set({ key: modeKey, homeId, dueAt: until, data: { owner: 'mode' } });
    else this.scheduler.cancel(modeKey);
    if (wasAway && mode !== 'away') {
      state.lastActivityAt = now;
      this.scheduler.cancel(`inactivity:${homeId}:idle`);
    }
    this.homeStates.save(homeId, state);
    this.ensureAll(now);
    return state;
  }

  #active(home: HomeConfig): Rule[] {
    return this.rules.filter((r) => this.#enabled(r, home));
  }

  #enabled(rule: Rule, home: HomeConfig): boolean {
    const key = ENABLED_KEY[rule.id];
    if (!key) return true;
    return (this.settingsFor(home)[key] as { enabled?: boolean }).enabled !== false;
  }

  #context(
    rule: Rule,
    home: HomeConfig,
    state: HomeState,
    now: number,
    late: boolean,
    device: DeviceConfig | undefined,
  ): RuleContext {
    const prefix = `${rule.id}:${home.id}:`;
    const wanderingRisk = home.rules?.wanderingRisk ?? home.residents.some((r) => r.wanderingRisk);
    return {
      now,
      late,
      home,
      tz: this.directory.timezoneOf(home.id),
      settings: this.settingsFor(home),
      wanderingRisk,
      hasMotionSensor: home.devices.some((d) => d.kind === 'motion_sensor'),
      device,
      state,
      openAlert: (mergeKey) => this.alertRepo.findOpen(mergeKey),
      setTimer: (key, dueAt, data = {}) =>
        this.scheduler.set({
          key: prefix + key,
          homeId: home.id,
          dueAt,
          data: { ...data, owner: 'rule', rule: rule.id, key },
        }),
      cancelTimer: (key) => this.scheduler.cancel(prefix + key),
      hasTimer: (key) => this.scheduler.has(prefix + key),
      isSuppressed: (kind) => SUPPRESSED[state.mode].has(kind),
    };
  }

  #apply(
    home: HomeConfig,
    state: HomeState,
    decisions: Decision[],
    now: number,
    late: boolean,
  ): AlertChange[] {
    const changes: AlertChange[] = [];
    for (const d of decisions) {
      if (d.type === 'raise' && SUPPRESSED[state.mode].has(d.kind)) {
        this.log.info({ home: home.id, kind: d.kind, mode: state.mode }, 'alert suppressed by home mode');
        continue;
      }
      const change = this.alerts.apply(d, now, late);
      if (change) changes.push(change);
    }
    return changes;
  }

  #guard(rule: Rule, where: unknown, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ rule: rule.id, where, err }, 'rule failed; skipped');
    }
  }
}

/** State every rule reads, updated after the rules have seen the event (so they can tell a change). */
function applyCommonState(state: HomeState, event: DeviceEvent): void {
  if (event.type !== 'status.offline') {
    state.lastSeen[event.deviceId] = event.at;
    delete state.offline[event.deviceId];
  } else {
    state.offline[event.deviceId] = event.at;
  }
  if (ACTIVITY_EVENTS.has(event.type)) state.lastActivityAt = event.at;
  if (event.type === 'motion.detected') state.lastMotionAt = event.at;
  if (event.type === 'door.opened' && state.doors[event.deviceId]?.open !== true)
    state.doors[event.deviceId] = { open: true, since: event.at };
  if (event.type === 'door.closed' && state.doors[event.deviceId]?.open !== false)
    state.doors[event.deviceId] = { open: false, since: event.at };
}
