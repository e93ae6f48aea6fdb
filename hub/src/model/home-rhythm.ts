/**
 * What the hub learns about one home's quiet spells and what it asked the resident: the check-in
 * record (PROTOCOL.md §7). One row per home (store/home-rhythm-repo.ts), written by the applier only
 * when it changes: a quiet spell closed that changes what was learned, a prompt sent or concluded,
 * a staff override. Every time in it comes from log entries, so a replay rebuilds it.
 */

/** Why the hub asked. */
export type PromptReason = 'quiet' | 'morning' | 'daily';

/** How a prompt ended: a `checkin` event, other activity, silence, or the home went away meanwhile. */
export type PromptOutcome = 'answered' | 'activity' | 'missed' | 'withdrawn';

/** The check-in request waiting for an answer (at most one per home). */
export interface PendingPrompt {
  requestId: string;
  at: number;
  answerBy: number;
  reason: PromptReason;
  /** The last activity before it: the start of the quiet spell it asks about. */
  quietSince: number;
  /** The SOS buttons it was sent to. */
  deviceIds: string[];
  /**
   * When silence is alarmed at the latest (the maximum, or the morning check): another request
   * follows an unanswered one while its wait ends by then. Absent: at `answerBy` (one request).
   */
  alarmAt?: number;
  /** The earlier requests about the same quiet spell, unanswered (they go on the alert's timeline). */
  earlier?: Array<{ at: number; answerBy: number }>;
}

export interface PromptRecord {
  requestId: string;
  at: number;
  reason: PromptReason;
  outcome: PromptOutcome;
  outcomeAt: number;
}

/**
 * Prompts of one local day: sent (of which `daily` for the daily check-in), and how they ended.
 * `capped`: a prompt was due but the day's limit was reached, so none was sent.
 */
export interface CheckinCounts {
  sent: number;
  daily: number;
  answered: number;
  activity: number;
  missed: number;
  capped: number;
  /** Of `sent`: requests that followed an unanswered one (not limited by maxPerDay). */
  repeated?: number;
}

export const COUNT_KEYS = ['sent', 'daily', 'answered', 'activity', 'missed', 'capped'] as const;

export function zeroCounts(): CheckinCounts {
  return { sent: 0, daily: 0, answered: 0, activity: 0, missed: 0, capped: 0 };
}

export interface RhythmOverride {
  /** Ask after this many hours of quiet, whatever the time of day (never beyond the home's maximum). */
  askAfterHours: number;
  by: string;
  at: number;
}

/** What staff may change of a home's rhythm (a `rhythm` log entry). */
export type RhythmChange =
  | { type: 'override'; askAfterHours: number }
  | { type: 'clear' }
  | { type: 'forget' };

export interface HomeRhythm {
  /** Rises with every change to `days`: derived tables are cached against it. */
  rev: number;
  /** Quiet spells that began before this are not learned (the watch began, a mode change, a reset). */
  learnFrom: number;
  /**
   * Local date (YYYY-MM-DD) → 24 values, one per local hour: 0 when no quiet spell began in that
   * hour; otherwise the longest that did, as quarter hours begun: 1 for under 15 minutes, n for
   * (n-1)×15 up to n×15 minutes. The last LEARN_WINDOW_DAYS days are kept.
   */
  days: Record<string, number[]>;
  override: RhythmOverride | null;
  /** When the home last went away (a long stay away, e.g. hospital, restarts the learning). */
  awaySince: number | null;
  /** The quiet spell (its start) for which an inactivity alert was raised: it is not learned. */
  alarmedSpell: number | null;
  pending: PendingPrompt | null;
  /** Prompts sent so far: numbers the request ids. */
  seq: number;
  /** Local date → that day's prompts (days without any are left out). */
  counts: Record<string, CheckinCounts>;
  /** The latest prompts, newest last. */
  recent: PromptRecord[];
}

export function freshRhythm(now: number): HomeRhythm {
  return {
    rev: 0,
    learnFrom: now,
    days: {},
    override: null,
    awaySince: null,
    alarmedSpell: null,
    pending: null,
    seq: 0,
    counts: {},
    recent: [],
  };
}
