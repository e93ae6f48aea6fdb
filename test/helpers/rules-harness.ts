import { rmSync } from 'node:fs';
import type { ManualClock } from '../../hub/src/clock/clock.js';
import { parseConfig } from '../../hub/src/config/load.js';
import { createLogger } from '../../hub/src/log.js';
import { Hub } from '../../hub/src/main.js';
import type { AlertRecord, Outcome } from '../../hub/src/model/alert.js';
import type { StaffAction } from '../../hub/src/model/entries.js';
import type { RhythmChange } from '../../hub/src/model/home-rhythm.js';
import type { HomeMode, HomeState } from '../../hub/src/model/home-state.js';
import { demoRaw, tempDir } from './hub.js';

/**
 * The real hub (journal, processor, rules, alerts, persisted timers) on the manual clock, without
 * network listeners: events go straight into the journal, as the broker would put them.
 */
export class RulesHarness {
  readonly hub: Hub;
  readonly clock: ManualClock;
  /** Every message the hub's effects sent to a device, from the boot on (the broker is not started). */
  readonly commands: Array<{ deviceId: string; message: Record<string, unknown>; at: number }> = [];
  #n = 0;
  /** Event ids must stay unique across restarts on one data dir, as real devices' ids are. */
  readonly #prefix = Math.random().toString(36).slice(2, 8);

  private constructor(
    hub: Hub,
    readonly dataDir: string,
  ) {
    this.hub = hub;
    this.clock = hub.clock as ManualClock;
  }

  static create(options: {
    raw?: Record<string, unknown>;
    start: string | number;
    dataDir?: string;
  }): RulesHarness {
    const dataDir = options.dataDir ?? tempDir('carehub-rules-');
    const raw = options.raw ?? demoRaw();
    const config = parseConfig({ ...raw, clock: 'manual', dataDir }, {});
    const start = typeof options.start === 'number' ? options.start : Date.parse(options.start);
    const hub = new Hub(config, {
      logger: createLogger('silent'),
      processMetrics: false,
      manualClockStart: start,
      // close() abandons the hub the way a crash would (no lock to release then).
      lockDataDir: false,
    });
    const h = new RulesHarness(hub, dataDir);
    hub.core.effects.attach({
      command: (deviceId, message) =>
        h.commands.push({ deviceId, message: message as Record<string, unknown>, at: h.clock.now() }),
    });
    h.#boot();
    return h;
  }

  /** Simulate a restart: close this hub and open a new one on the same data dir at `at`. */
  restart(at: number): RulesHarness {
    this.close(true);
    return RulesHarness.create({ raw: demoRawFrom(this.hub), start: at, dataDir: this.dataDir });
  }

  #boot(): void {
    this.hub.openCore();
    // Late timers were armed at "now" on the manual clock: fire them.
    this.clock.advance(0);
  }

  /** A device event received now. */
  event(
    deviceId: string,
    payload: {
      type: string;
      id?: string;
      battery?: number;
      batteryLow?: boolean;
      rssi?: number;
      requestId?: unknown;
    },
  ): void {
    const entry = this.hub.directory.device(deviceId);
    if (!entry) throw new Error(`no device ${deviceId}`);
    void this.hub.store.journal.append({
      deviceId,
      homeId: entry.home.id,
      receivedAt: this.clock.now(),
      type: payload.type,
      eventId: payload.id ?? `${this.#prefix}-${++this.#n}`,
      payload: JSON.stringify(payload),
    });
    this.hub.store.journal.flushNow();
  }

  /** A home's mode, set by a supervisor now (a `mode` entry, as the API submits it). */
  setMode(homeId: string, mode: HomeMode, until: number | null = null, staffId = 'supervisor1'): void {
    this.hub.core.machine.submitNow({ kind: 'mode', at: this.clock.now(), staffId, homeId, mode, until });
  }

  /** What the hub uses of a home's learned rhythm, set by staff now (a `rhythm` entry, as the API submits it). */
  setRhythm(homeId: string, change: RhythmChange, staffId = 'supervisor1'): void {
    this.hub.core.machine.submitNow({ kind: 'rhythm', at: this.clock.now(), staffId, homeId, change });
  }

  /** A staff action now (a `staff` entry, as the API and the feed submit it). */
  act(action: StaffAction, staffId = 'supervisor1'): void {
    this.hub.core.machine.submitNow({ kind: 'staff', at: this.clock.now(), staffId, action });
  }

  resolve(alertId: string, outcome: Outcome = 'genuine', note?: string): void {
    this.act({ type: 'resolve', alertId, outcome, note });
  }

  /** What the rules hold about a home now. */
  state(homeId: string): HomeState {
    return this.hub.core.rules.stateOf(homeId, this.clock.now());
  }

  /** Advance the drill clock by a duration like '10m', '2h', '90s' or ms. */
  advance(d: string | number): void {
    this.clock.advance(typeof d === 'number' ? d : parseDuration(d));
  }

  /** Advance to the next local time HH:MM in the home's zone (Asia/Shanghai for the demo). */
  advanceTo(iso: string): void {
    const target = Date.parse(iso);
    if (target < this.clock.now()) throw new Error(`${iso} is in the past`);
    this.clock.advance(target - this.clock.now());
  }

  alerts(filter: { kind?: string; homeId?: string } = {}): AlertRecord[] {
    return this.hub.store.alerts
      .query({ limit: 10_000, kind: filter.kind, homeIds: filter.homeId ? [filter.homeId] : undefined })
      .reverse();
  }

  kinds(): string[] {
    return this.alerts().map((r) => `${r.alert.homeId}:${r.alert.kind}`);
  }

  /** Stop the hub cleanly (soft state written, as `carehub start` does on SIGTERM) and keep its data dir. */
  stop(): void {
    this.hub.core.soft.stop();
    this.close(true);
  }

  /** Restart after a clean stop, at `at`. */
  restartClean(at: number): RulesHarness {
    this.stop();
    return RulesHarness.create({ raw: demoRawFrom(this.hub), start: at, dataDir: this.dataDir });
  }

  /** Abandon the hub as a crash would (soft state not written), keeping or removing its data dir. */
  close(keepData = false): void {
    this.hub.core.scheduler.stop();
    this.hub.store.journal.close();
    this.hub.store.close();
    if (!keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function demoRawFrom(hub: Hub): Record<string, unknown> {
  return JSON.parse(JSON.stringify(hub.config)) as Record<string, unknown>;
}

export function parseDuration(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}
