import type { HomeConfig } from '../config/schema.js';
import { type CheckinCounts, freshRhythm, type HomeRhythm, zeroCounts } from '../model/home-rhythm.js';
import { countsBetween } from '../reports/checkins.js';
import { askProfile, learnedTable } from '../rules/rhythm.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import { formatIso } from '../time/iso.js';
import { previousLocalTime } from '../time/local.js';

const DAY = 24 * 3600_000;

export interface CheckinSummary {
  today: CheckinCounts;
  last30Days: CheckinCounts;
  pending: { requestId: string; at: string; answerBy: string; reason: string } | null;
}

export type RecentPrompts = Array<{
  requestId: string;
  at: string;
  reason: string;
  outcome: string;
  outcomeAt: string;
}>;

export interface RhythmSummary {
  /** learning: the safe default until enough days are seen; learned; override: set by staff; off: check-ins off. */
  status: 'learning' | 'learned' | 'override' | 'off';
  daysSeen: number;
  learnDays: number;
  /** The longest a fall may go unseen here (inactivity.hoursWithMotion or hoursDoorOnly). */
  maxHours: number;
  waitMinutes: number;
  dailyAt: string | null;
  /** The home has an SOS button the hub can send a request to. */
  canAsk: boolean;
  override: { askAfterHours: number; by: string; at: string } | null;
}

export interface RhythmDetail extends RhythmSummary {
  /** [weekday 0 = Sunday][local hour]: minutes of quiet after which the hub asks, for a spell beginning then. */
  askAfterMinutes: number[][];
  /** [weekday][hour]: the usual longest quiet spell learned (minutes), null where too few days were seen. */
  usualMinutes: Array<Array<number | null>>;
}

/**
 * What staff see of a home's check-ins and learned rhythm (GET /api/v1/homes, /homes/{id}, the
 * console's home page): read from the rules' record, nothing stored by reading.
 */
export class RhythmView {
  constructor(
    private readonly directory: Directory,
    private readonly rules: RulesRuntime,
  ) {}

  checkins(home: HomeConfig, now: number): CheckinSummary {
    const tz = this.directory.timezoneOf(home.id);
    const r = this.rules.rhythmOf(home.id);
    const midnight = previousLocalTime(now, tz, '00:00');
    const p = r?.pending ?? null;
    return {
      today: r ? countsBetween(r, midnight, now + 1, tz) : zeroCounts(),
      last30Days: r ? countsBetween(r, now - 30 * DAY, now + 1, tz) : zeroCounts(),
      pending: p
        ? {
            requestId: p.requestId,
            at: formatIso(p.at, tz),
            answerBy: formatIso(p.answerBy, tz),
            reason: p.reason,
          }
        : null,
    };
  }

  summary(home: HomeConfig): RhythmSummary {
    return this.#summary(home, this.rules.rhythmOf(home.id));
  }

  detail(home: HomeConfig): RhythmDetail {
    const r = this.rules.rhythmOf(home.id);
    const record = r ?? freshRhythm(0);
    return {
      ...this.#summary(home, r),
      askAfterMinutes: askProfile(record, this.#policy(home)).minutes,
      usualMinutes: learnedTable(record).usual,
    };
  }

  /** The latest prompts, newest first. */
  recent(home: HomeConfig): RecentPrompts {
    const tz = this.directory.timezoneOf(home.id);
    return [...(this.rules.rhythmOf(home.id)?.recent ?? [])].reverse().map((x) => ({
      requestId: x.requestId,
      at: formatIso(x.at, tz),
      reason: x.reason,
      outcome: x.outcome,
      outcomeAt: formatIso(x.outcomeAt, tz),
    }));
  }

  #policy(home: HomeConfig) {
    const s = this.rules.settingsFor(home);
    const motion = home.devices.some((d) => d.kind === 'motion_sensor');
    return {
      maxMs: (motion ? s.inactivity.hoursWithMotion : s.inactivity.hoursDoorOnly) * 3600_000,
      waitMs: s.checkin.waitMinutes * 60_000,
      requests: s.checkin.requests,
      learn: s.checkin.learn,
      learnDays: s.checkin.learnDays,
    };
  }

  #summary(home: HomeConfig, r: HomeRhythm | undefined): RhythmSummary {
    const s = this.rules.settingsFor(home);
    const tz = this.directory.timezoneOf(home.id);
    const policy = this.#policy(home);
    const canAsk = s.checkin.enabled && home.devices.some((d) => d.kind === 'sos_button' && !d.zigbee);
    const daysSeen = r ? learnedTable(r).daysSeen : 0;
    const status = !canAsk
      ? 'off'
      : r?.override
        ? 'override'
        : s.checkin.learn && daysSeen >= s.checkin.learnDays
          ? 'learned'
          : 'learning';
    return {
      status,
      daysSeen,
      learnDays: s.checkin.learnDays,
      maxHours: policy.maxMs / 3600_000,
      waitMinutes: s.checkin.waitMinutes,
      dailyAt: s.checkin.dailyAt === false ? null : s.checkin.dailyAt,
      canAsk,
      override: r?.override
        ? { askAfterHours: r.override.askAfterHours, by: r.override.by, at: formatIso(r.override.at, tz) }
        : null,
    };
  }
}
