import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { FeedEntry } from '../model/feed-entry.js';
import type { HomeMode } from '../model/home-state.js';
import type { TimerRow } from '../model/timer.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import type { FeedLog } from '../store/feed-log.js';
import { formatIso } from '../time/iso.js';
import type { Scheduler } from '../timers/scheduler.js';

/** The timer that ends a mode set with `until`: owner `mode`, one per home. */
const modeTimerKey = (homeId: string) => `mode:${homeId}`;

/**
 * A home's mode (home, away, maintenance) and its expiry. Applied from `mode` entries (staff) and
 * from the expiry timer; the rules react through RulesRuntime.setMode. Runs inside the applier's
 * unit of work.
 */
export class HomeModes {
  constructor(
    private readonly directory: Directory,
    private readonly rules: RulesRuntime,
    private readonly scheduler: Scheduler,
    private readonly feedLog: FeedLog,
  ) {}

  /** Staff set a mode: scope and time checked here, so every node and every replay decides alike. */
  set(staff: StaffConfig, homeId: string, mode: HomeMode, until: number | null, now: number): FeedEntry {
    if (!this.directory.home(homeId) || !this.directory.canSee(staff, homeId))
      throw new HubError(ErrorCodes.NOT_FOUND, `no home ${homeId}`);
    if (until !== null && until <= now)
      throw new HubError(ErrorCodes.BAD_REQUEST, 'until must be in the future');
    return this.#change(homeId, mode, until, now, staff.id);
  }

  /** The expiry timer (owner `mode`) fell due: the home is back to `home`. */
  onTimer(timer: TimerRow, now: number): FeedEntry | undefined {
    this.scheduler.cancel(timer.key);
    if (!this.directory.home(timer.homeId)) return undefined;
    return this.#change(timer.homeId, 'home', null, now, null);
  }

  #change(homeId: string, mode: HomeMode, until: number | null, now: number, by: string | null): FeedEntry {
    this.rules.setMode(homeId, mode, until, now);
    const key = modeTimerKey(homeId);
    if (until !== null) this.scheduler.set({ key, homeId, dueAt: until, data: { owner: 'mode' } });
    else this.scheduler.cancel(key);
    const tz = this.directory.timezoneOf(homeId);
    return this.feedLog.append(now, 'home', homeId, {
      type: 'home',
      home: {
        id: homeId,
        mode,
        until: until === null ? null : formatIso(until, tz),
        ...(by === null ? {} : { by }),
      },
    });
  }
}
