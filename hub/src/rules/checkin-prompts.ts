import {
  type CheckinCounts,
  type HomeRhythm,
  type PendingPrompt,
  type PromptOutcome,
  type PromptReason,
  zeroCounts,
} from '../model/home-rhythm.js';
import { formatIso, localParts } from '../time/iso.js';
import { localDate } from '../time/local.js';
import { type AskPolicy, askAfter } from './rhythm.js';
import type { Decision, Note, RuleContext } from './types.js';

/**
 * Check-in prompts (PROTOCOL.md §7): ask the resident before alarming. A prompt is a
 * `checkin.request` command to the home's SOS buttons, recorded as the home's pending prompt with
 * its `answer` timer; an answer or any activity concludes it, silence raises `inactivity` with the
 * prompt on the alert's timeline. Used by the inactivity rule (rules/inactivity.ts).
 */

const MINUTE = 60_000;
/** Days of per-day counts kept (the report reads them). */
const COUNT_DAYS = 92;
/** Prompts kept in the home's recent list. */
const RECENT = 20;

export const maxMs = (ctx: RuleContext) =>
  (ctx.hasMotionSensor ? ctx.settings.inactivity.hoursWithMotion : ctx.settings.inactivity.hoursDoorOnly) *
  3600_000;

export const waitMs = (ctx: RuleContext) => ctx.settings.checkin.waitMinutes * MINUTE;

/** Requests about one quiet spell before alarming (the first, and those after it goes unanswered). */
export const requestsPerSpell = (ctx: RuleContext) => Math.max(1, ctx.settings.checkin.requests);

/** The home can be asked: check-ins on, and an SOS button the hub can send commands to. */
export const canAsk = (ctx: RuleContext) => ctx.settings.checkin.enabled && ctx.askDevices.length > 0;

export function askPolicy(ctx: RuleContext): AskPolicy {
  return {
    maxMs: maxMs(ctx),
    waitMs: waitMs(ctx),
    requests: requestsPerSpell(ctx),
    learn: ctx.settings.checkin.learn,
    learnDays: ctx.settings.checkin.learnDays,
  };
}

/** When a quiet spell that began at `since` is long enough to ask about. */
export function askDue(ctx: RuleContext, since: number): number {
  return since + askAfter(ctx.rhythm(), since, ctx.tz, askPolicy(ctx)).ms;
}

/** A home with a motion sensor whose last activity was the door: probably out, so nobody to ask. */
export function probablyOut(ctx: RuleContext): boolean {
  const t = ctx.state.lastActivityType;
  return ctx.hasMotionSensor && (t === 'door.opened' || t === 'door.closed');
}

const hhmm = (at: number, tz: string) => {
  const p = localParts(at, tz);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
};

function countsOf(r: HomeRhythm, day: string): CheckinCounts {
  let c = r.counts[day];
  if (!c) {
    c = zeroCounts();
    r.counts[day] = c;
    const keys = Object.keys(r.counts).sort();
    for (const k of keys.slice(0, Math.max(0, keys.length - COUNT_DAYS))) delete r.counts[k];
  }
  return c;
}

/** SOS buttons that can hear a request: not reported offline, and heard within their supervision interval. */
function reachable(ctx: RuleContext): string[] {
  const silentBefore = ctx.now - ctx.settings.deviceOffline.supervisionHours.sos_button * 3600_000;
  return ctx.askDevices.filter(
    (id) =>
      ctx.state.offline[id] === undefined &&
      (ctx.state.lastSeen[id] ?? ctx.state.watchedSince) >= silentBefore,
  );
}

/**
 * An inactivity alert is open about the silence going on now (nothing since it was raised): staff
 * already know, and asking again only beeps at someone who could not answer.
 */
export function alarmedNow(ctx: RuleContext): boolean {
  const open = ctx.openAlert(`inactivity:${ctx.home.id}`);
  return open !== undefined && (ctx.state.lastActivityAt ?? ctx.state.watchedSince) <= open.raisedAtMs;
}

/**
 * Send a prompt now, unless one is pending, an inactivity alert is open about this silence, or (for
 * quiet spells and the morning check) the day's limit is reached, which is counted. `quietSince` is
 * the last activity; `alarmAt` the latest the silence may be alarmed (further requests fit before it).
 */
export function ask(
  ctx: RuleContext,
  reason: PromptReason,
  answerBy: number,
  quietSince: number,
  alarmAt: number = answerBy,
): Decision[] {
  const r = ctx.rhythm();
  if (r.pending || alarmedNow(ctx)) return [];
  const counts = countsOf(r, localDate(ctx.now, ctx.tz));
  ctx.rhythmChanged();
  if (
    reason !== 'daily' &&
    counts.sent - counts.daily - (counts.repeated ?? 0) >= ctx.settings.checkin.maxPerDay
  ) {
    counts.capped++;
    return [];
  }
  const deviceIds = reachable(ctx);
  if (deviceIds.length === 0) return [];
  const p = send(ctx, { reason, answerBy, quietSince, deviceIds, alarmAt: Math.max(alarmAt, answerBy) });
  if (reason === 'daily') counts.daily++;
  return [requestCommand(ctx, p)];
}

function send(ctx: RuleContext, p: Omit<PendingPrompt, 'requestId' | 'at'>): PendingPrompt {
  const r = ctx.rhythm();
  r.seq++;
  const requestId = `ci-${ctx.now.toString(36)}-${r.seq.toString(36)}`;
  r.pending = { requestId, at: ctx.now, ...p };
  countsOf(r, localDate(ctx.now, ctx.tz)).sent++;
  ctx.rhythmChanged();
  ctx.setTimer('answer', p.answerBy);
  return r.pending;
}

/**
 * The pending prompt's wait ended unanswered: the next request about the same silence, when the
 * resident may simply not have heard (another is allowed, its wait ends by `alarmAt`, a button can
 * hear it). Null: nothing more to ask, the silence is alarmed. The unanswered one is counted missed.
 */
export function askAgain(ctx: RuleContext): Decision[] | null {
  const r = ctx.rhythm();
  const p = r.pending;
  if (!p || p.alarmAt === undefined || ctx.isSuppressed('inactivity')) return null;
  const earlier = [...(p.earlier ?? []), { at: p.at, answerBy: p.answerBy }];
  const answerBy = ctx.now + waitMs(ctx);
  if (earlier.length >= requestsPerSpell(ctx) || answerBy > p.alarmAt) return null;
  const deviceIds = reachable(ctx);
  if (deviceIds.length === 0) return null;
  conclude(ctx, 'missed', ctx.now);
  const next = send(ctx, {
    reason: p.reason,
    answerBy,
    quietSince: p.quietSince,
    deviceIds,
    alarmAt: p.alarmAt,
    earlier,
  });
  const counts = countsOf(r, localDate(ctx.now, ctx.tz));
  counts.repeated = (counts.repeated ?? 0) + 1;
  if (p.reason === 'daily') counts.daily++;
  return [requestCommand(ctx, next)];
}

/** The `checkin.request` of a pending prompt (sent again as it was after a restart). */
export function requestCommand(ctx: RuleContext, p: PendingPrompt): Decision {
  return {
    type: 'command',
    homeId: ctx.home.id,
    deviceIds: p.deviceIds,
    message: {
      type: 'checkin.request',
      requestId: p.requestId,
      at: formatIso(p.at, ctx.tz),
      answerBy: formatIso(p.answerBy, ctx.tz),
    },
  };
}

/** The pending prompt ended: counted on the day it was sent, kept in the recent list. */
export function conclude(ctx: RuleContext, outcome: PromptOutcome, at: number): PendingPrompt | null {
  const r = ctx.rhythm();
  const p = r.pending;
  if (!p) return null;
  r.pending = null;
  ctx.cancelTimer('answer');
  if (outcome !== 'withdrawn') countsOf(r, localDate(p.at, ctx.tz))[outcome]++;
  r.recent.push({ requestId: p.requestId, at: p.at, reason: p.reason, outcome, outcomeAt: at });
  if (r.recent.length > RECENT) r.recent.splice(0, r.recent.length - RECENT);
  ctx.rhythmChanged();
  return p;
}

/** The alert note for a silence after the prompt, by why it was asked. */
export function missedNote(ctx: RuleContext, p: PendingPrompt): Note {
  const quiet = Math.max(0, ctx.now - p.quietSince);
  const params = {
    asked: hhmm(p.at, ctx.tz),
    by: hhmm(p.answerBy, ctx.tz),
    since: hhmm(p.quietSince, ctx.tz),
    hours: String(Math.floor(quiet / 3600_000)),
    minutes: String(Math.floor((quiet % 3600_000) / MINUTE)),
  };
  if (p.reason === 'morning') {
    const check = ctx.settings.inactivity.morningCheck;
    return {
      key: 'note.morning_check_unanswered',
      params: { ...params, time: check === false ? '' : check },
    };
  }
  if (p.reason === 'daily') return { key: 'note.daily_checkin_unanswered', params };
  return { key: 'note.checkin_unanswered', params };
}

/** The prompt, and the unanswered ones before it about the same silence, on the alert's timeline when each was sent. */
export function sentNotes(ctx: RuleContext, p: PendingPrompt): Array<{ at: number; note: Note }> {
  return [...(p.earlier ?? []), { at: p.at, answerBy: p.answerBy }].map((x) => ({
    at: x.at,
    note: {
      key: 'note.checkin_sent',
      params: { since: hhmm(p.quietSince, ctx.tz), by: hhmm(x.answerBy, ctx.tz) },
    },
  }));
}
