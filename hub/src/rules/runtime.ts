import type { RuleSettings } from '../config/rules-schema.js';
import type { HomeConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { HomeRhythm, RhythmChange } from '../model/home-rhythm.js';
import type { HomeMode, HomeState } from '../model/home-state.js';
import type { TimerRow } from '../model/timer.js';
import type { DeviceEvent } from '../protocol/events.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { HomeRhythmRepo } from '../store/home-rhythm-repo.js';
import type { HomeStateRepo } from '../store/home-state-repo.js';
import type { Scheduler } from '../timers/scheduler.js';
import { HomeRulesCache, RuleCtx, SUPPRESSED } from './context.js';
import { forgetSpells } from './rhythm.js';
import { ACTIVITY_EVENTS, type Decision, type Rule } from './types.js';

/**
 * At most this much time (real, and hub time for drills) of `lastSeen` changes is kept only in
 * memory: what a crash can set "last seen" back by. One heartbeat period of a typical device. Every
 * home heard from in the interval is written whole at each flush, so on a busy site a shorter one
 * costs CPU: at 10 s it was about 5 % of the hub's CPU at 20 000 events/s (docs/performance.md).
 */
export const LAST_SEEN_WRITE_MS = 60_000;

/**
 * Runs the rules: keeps each home's state, gives each rule a context with namespaced persisted
 * timers, and returns their decisions, filtered by home mode, for the applier to hand to the alert
 * lifecycle. All of it runs inside the applier's unit of work.
 *
 * Home state is written in that transaction whenever anything but `lastSeen` changed, or the event
 * or timer changed an alert. A heartbeat changes only `lastSeen`: that is kept in memory and written
 * by `flush()`, which the hub calls every few seconds of real time and at shutdown, and also with
 * the first event or timer once LAST_SEEN_WRITE_MS of hub time have passed (drills: see HomeStateRepo).
 */
export class RulesRuntime {
  readonly #derived: HomeRulesCache;
  #writtenAt = Number.NEGATIVE_INFINITY;
  readonly #byId: Map<string, Rule>;

  constructor(
    private readonly directory: Directory,
    private readonly homeStates: HomeStateRepo,
    private readonly scheduler: Scheduler,
    private readonly alertRepo: AlertRepo,
    private readonly rhythms: HomeRhythmRepo,
    rules: readonly Rule[],
    private readonly log: Logger,
  ) {
    this.#byId = new Map(rules.map((r) => [r.id, r]));
    this.#derived = new HomeRulesCache(directory, rules);
  }

  settingsFor(home: HomeConfig): RuleSettings {
    return this.#derived.of(home).settings;
  }

  /** The home's state for reading (a home not seen yet reads as fresh at `now`; nothing is stored). */
  stateOf(homeId: string, now: number): HomeState {
    return this.homeStates.peek(homeId, now);
  }

  /** The context one rule call works in: this home, its rules, its state, at the entry's time. */
  #context(
    home: HomeConfig,
    derived: ReturnType<HomeRulesCache['of']>,
    state: HomeState,
    now: number,
    late = false,
    device?: ConstructorParameters<typeof RuleCtx>[8],
  ): RuleCtx {
    return new RuleCtx(this.scheduler, this.alertRepo, this.rhythms, home, derived, state, now, late, device);
  }

  onEvent(event: DeviceEvent): Decision[] {
    const home = this.directory.home(event.homeId);
    if (!home) return [];
    this.#writeBehind(event.at);
    const derived = this.#derived.of(home);
    const state = this.homeStates.load(home.id, event.at);
    const device = this.directory.device(event.deviceId)?.device;
    const ctx = this.#context(home, derived, state, event.at, false, device);
    const decisions: Decision[] = [];
    for (const rule of derived.active) {
      if (!rule.onEvent) continue;
      try {
        for (const d of rule.onEvent(event, ctx.use(rule))) decisions.push(d);
      } catch (err) {
        this.#failed(rule, event.seq, err);
      }
    }
    applyCommonState(state, event);
    if (event.type !== 'status.offline') this.homeStates.seen(home.id);
    ctx.saveRhythm();
    this.#save(home.id, state, decisions);
    return this.#unsuppressed(home, state, decisions);
  }

  /** A rule timer (owner `rule`) fell due. */
  onTimer(timer: TimerRow, now: number, late: boolean): Decision[] {
    const rule = this.#byId.get(String(timer.data.rule));
    const home = this.directory.home(timer.homeId);
    this.scheduler.cancel(timer.key);
    if (!rule?.onTimer || !home) return [];
    const derived = this.#derived.of(home);
    if (!derived.active.includes(rule)) return [];
    this.#writeBehind(now);
    const state = this.homeStates.load(home.id, now);
    const ctx = this.#context(home, derived, state, now, late);
    const decisions: Decision[] = [];
    try {
      for (const d of rule.onTimer(String(timer.data.key), timer.data, ctx.use(rule))) decisions.push(d);
    } catch (err) {
      this.#failed(rule, timer.key, err);
    }
    ctx.saveRhythm();
    this.#save(home.id, state, decisions);
    return this.#unsuppressed(home, state, decisions);
  }

  /** Make sure every home's standing timers exist (idempotent). */
  ensureAll(now: number): void {
    for (const home of this.directory.homes()) this.#ensure(home, now);
  }

  /** Make sure one home's standing timers exist: a home added or changed, a device added (idempotent). */
  ensureHome(homeId: string, now: number): void {
    const home = this.directory.home(homeId);
    if (home) this.#ensure(home, now);
  }

  /** A device removed from its home: what the rules kept about it goes, and so do its timers. */
  forgetDevice(homeId: string, deviceId: string, timers: readonly TimerRow[], now: number): void {
    for (const t of timers) if (t.data.deviceId === deviceId) this.scheduler.cancel(t.key);
    const stored = this.homeStates.stored(homeId);
    if (!stored) return;
    const state = this.homeStates.load(homeId, now);
    delete state.lastSeen[deviceId];
    delete state.offline[deviceId];
    delete state.doors[deviceId];
    delete state.batteryLow[deviceId];
    delete state.lastSmokeTestAt[deviceId];
    this.homeStates.save(homeId, state);
  }

  /**
   * The hub started (a `start` entry): every home's standing timers made sure of, and what the
   * rules want sent again to devices (a check-in request still awaiting its answer: the message
   * may have been lost with the hub; it names its request, so a repeat is harmless).
   */
  start(now: number): Decision[] {
    const out: Decision[] = [];
    for (const home of this.directory.homes()) {
      const ctx = this.#ensure(home, now);
      for (const rule of this.#derived.of(home).active) {
        if (!rule.onStart) continue;
        try {
          for (const d of rule.onStart(ctx.use(rule))) out.push(d);
        } catch (err) {
          this.#failed(rule, home.id, err);
        }
      }
    }
    return out;
  }

  #ensure(home: HomeConfig, now: number): RuleCtx {
    const derived = this.#derived.of(home);
    const state = this.homeStates.load(home.id, now);
    const ctx = this.#context(home, derived, state, now);
    for (const rule of derived.active) {
      try {
        rule.ensure?.(ctx.use(rule));
      } catch (err) {
        this.#failed(rule, home.id, err);
      }
    }
    ctx.saveRhythm();
    this.homeStates.saveIfChanged(home.id, state);
    return ctx;
  }

  /**
   * Staff changed what the hub uses of a home's rhythm (a `rhythm` entry): an override of the
   * ask-after time, its removal, or forgetting what was learned. The pending ask is timed afresh.
   */
  setRhythm(homeId: string, change: RhythmChange, by: string, now: number): HomeRhythm {
    const home = this.directory.home(homeId);
    if (!home) throw new Error(`no home ${homeId}`);
    const r = this.rhythms.load(homeId, now);
    if (change.type === 'override') r.override = { askAfterHours: change.askAfterHours, by, at: now };
    else if (change.type === 'clear') r.override = null;
    else forgetSpells(r, now);
    this.rhythms.save(homeId, r);
    this.scheduler.cancel(`inactivity:${homeId}:ask`);
    this.#ensure(home, now);
    return r;
  }

  /** What staff see of a home's check-ins and learned rhythm (nothing is stored for a home not seen yet). */
  rhythmOf(homeId: string): HomeRhythm | undefined {
    return this.rhythms.peek(homeId);
  }

  /**
   * Write the `lastSeen` changes kept in memory (in a transaction of its own) and let the in-memory
   * filter of open alerts forget resolved ones. Call outside any transaction, every few seconds and at
   * shutdown. Returns the homes written (at most `limit`).
   */
  flush(limit = Number.POSITIVE_INFINITY): number {
    this.alertRepo.pruneOpenKeys();
    return this.homeStates.flush(limit);
  }

  /**
   * The rules' part of a home mode change (away, maintenance, home; the homes module owns the mode
   * and its expiry). Returning home starts the activity count afresh.
   */
  setMode(homeId: string, mode: HomeMode, until: number | null, now: number): HomeState {
    const home = this.directory.home(homeId);
    if (!home) throw new Error(`no home ${homeId}`);
    const state = this.homeStates.load(homeId, now);
    const from = state.mode;
    const wasAway = from === 'away';
    state.mode = mode;
    state.modeUntil = until;
    if (wasAway && mode !== 'away') {
      state.lastActivityAt = now;
      this.scheduler.cancel(`inactivity:${homeId}:idle`);
    }
    if (from !== mode) {
      const derived = this.#derived.of(home);
      const ctx = this.#context(home, derived, state, now);
      for (const rule of derived.active) {
        try {
          rule.onModeChange?.(from, ctx.use(rule));
        } catch (err) {
          this.#failed(rule, homeId, err);
        }
      }
      ctx.saveRhythm();
    }
    this.homeStates.save(homeId, state);
    this.ensureAll(now);
    return state;
  }

  /** On the hub's clock too, so that a drill (hours pass in a moment) keeps the same bound. */
  #writeBehind(now: number): void {
    if (now - this.#writtenAt < LAST_SEEN_WRITE_MS) return;
    this.#writtenAt = now;
    this.homeStates.flush();
  }

  /**
   * Anything but `lastSeen` changed: write now. So did anything that changed an alert, with
   * `lastSeen` too, so that a crash cannot make a rule see the same change again (a device back
   * online is noted once).
   */
  #save(homeId: string, state: HomeState, decisions: readonly Decision[]): void {
    if (decisions.length > 0) this.homeStates.save(homeId, state);
    else this.homeStates.saveIfChanged(homeId, state);
  }

  #unsuppressed(home: HomeConfig, state: HomeState, decisions: Decision[]): Decision[] {
    return decisions.filter((d) => {
      if (d.type !== 'raise' || !SUPPRESSED[state.mode].has(d.kind)) return true;
      this.log.info({ home: home.id, kind: d.kind, mode: state.mode }, 'alert suppressed by home mode');
      return false;
    });
  }

  #failed(rule: Rule, where: unknown, err: unknown): void {
    this.log.error({ rule: rule.id, where, err }, 'rule failed; skipped');
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
  if (ACTIVITY_EVENTS.has(event.type)) {
    state.lastActivityAt = event.at;
    state.lastActivityType = event.type;
  }
  if (event.type === 'motion.detected') state.lastMotionAt = event.at;
  if (event.type === 'door.opened' && state.doors[event.deviceId]?.open !== true)
    state.doors[event.deviceId] = { open: true, since: event.at };
  if (event.type === 'door.closed' && state.doors[event.deviceId]?.open !== false)
    state.doors[event.deviceId] = { open: false, since: event.at };
}
