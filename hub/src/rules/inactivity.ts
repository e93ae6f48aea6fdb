import type { HomeRhythm } from '../model/home-rhythm.js';
import { inLocalWindow, nextLocalTime, parseHhmm, previousLocalTime } from '../time/local.js';
import {
  ask,
  askAgain,
  askDue,
  canAsk,
  conclude,
  maxMs,
  missedNote,
  probablyOut,
  requestCommand,
  requestsPerSpell,
  sentNotes,
  waitMs,
} from './checkin-prompts.js';
import { forgetSpells, RELEARN_AFTER_AWAY_MS, recordSpell } from './rhythm.js';
import {
  ACTIVITY_EVENTS,
  type Decision,
  type Note,
  type Rule,
  type RuleContext,
  type TimedNote,
} from './types.js';

const hoursFor = (ctx: RuleContext) =>
  ctx.hasMotionSensor ? ctx.settings.inactivity.hoursWithMotion : ctx.settings.inactivity.hoursDoorOnly;

const sinceOf = (ctx: RuleContext) => ctx.state.lastActivityAt ?? ctx.state.watchedSince;

function raise(ctx: RuleContext, note: Note, timeline?: TimedNote[]): Decision[] {
  // The quiet spell this alert is about is no habit of the resident's: it is not learned.
  const r = ctx.rhythm();
  const since = sinceOf(ctx);
  if (r.alarmedSpell !== since) {
    r.alarmedSpell = since;
    ctx.rhythmChanged();
  }
  const mergeKey = `inactivity:${ctx.home.id}`;
  if (ctx.openAlert(mergeKey)) return [];
  return [
    {
      type: 'raise',
      kind: 'inactivity',
      severity: 'high',
      mergeKey,
      homeId: ctx.home.id,
      deviceId: null,
      note,
      ...(timeline ? { timeline } : {}),
    },
  ];
}

/** The pending prompt went unanswered and no other follows: the alert, with the prompts on its timeline. */
function missed(ctx: RuleContext): Decision[] {
  const p = conclude(ctx, 'missed', ctx.now);
  if (!p) return [];
  // As after any inactivity alert, the count starts again: silent another whole period, it is raised again.
  ctx.setTimer('idle', ctx.now + hoursFor(ctx) * 3600_000, { since: sinceOf(ctx) });
  return raise(ctx, missedNote(ctx, p), sentNotes(ctx, p));
}

/** Nothing since the night ended (and the hub was watching then): the morning and daily checks. */
function quietSinceNightEnd(ctx: RuleContext): boolean {
  const nightEnd = previousLocalTime(ctx.now, ctx.tz, ctx.settings.nightWindow.end);
  const last = ctx.state.lastActivityAt ?? Number.NEGATIVE_INFINITY;
  return last < nightEnd && ctx.state.watchedSince <= nightEnd;
}

/**
 * When a quiet-spell question due now waits for: the morning check's question (homes with one, at
 * night or for a spell that began before the night ended), or the night's end; null: ask now.
 */
function deferredAsk(ctx: RuleContext): { at: number; by: 'morning-check' | 'night-end' } | null {
  const { start, end } = ctx.settings.nightWindow;
  const night = inLocalWindow(ctx.now, ctx.tz, start, end);
  const check = ctx.settings.inactivity.morningCheck;
  if (ctx.hasMotionSensor && check !== false && (night || quietSinceNightEnd(ctx))) {
    const at = morningAskTime(check, morningAskLead(ctx, check));
    return { at: nextLocalTime(ctx.now, ctx.tz, at), by: 'morning-check' };
  }
  return night ? { at: nextLocalTime(ctx.now, ctx.tz, end), by: 'night-end' } : null;
}

/**
 * Minutes before the morning check that its first request goes: room for the wait of every request,
 * but not before the night's end (at least one wait, as with one request).
 */
function morningAskLead(ctx: RuleContext, check: string): number {
  const wait = ctx.settings.checkin.waitMinutes;
  const sinceNightEnd = (((parseHhmm(check) - parseHhmm(ctx.settings.nightWindow.end)) % 1440) + 1440) % 1440;
  return Math.max(wait, Math.min(wait * requestsPerSpell(ctx), sinceNightEnd));
}

/** The morning prompt's local time: the morning check less `leadMinutes`. */
function morningAskTime(check: string, leadMinutes: number): string {
  const m = (((parseHhmm(check) - leadMinutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * A quiet spell closed (activity at `end`): learned, unless it began before learning did, an alert
 * was raised for it, the home was away, or the resident was probably out.
 */
function learnSpell(ctx: RuleContext, r: HomeRhythm, end: number): void {
  const start = ctx.state.lastActivityAt;
  if (start === null || start <= r.learnFrom || r.alarmedSpell === start) return;
  if (ctx.state.mode === 'away' || probablyOut(ctx)) return;
  if (recordSpell(r, start, end, ctx.tz)) ctx.rhythmChanged();
}

/**
 * No resident activity (door, motion, SOS, check-in) for too long. The hub first asks (a
 * `checkin.request` to the SOS buttons) once the home has been quiet for longer than is usual for
 * its resident at that hour and weekday (rules/rhythm.ts), and alarms when nobody answers; never
 * later than 12 h with a motion sensor, 24 h for a door-only home, where someone resting at home
 * all day is normal and invisible. With a motion sensor also the morning check: nothing moved
 * between the end of the night and 10:00 (asked first). Optionally a daily check-in time per home.
 */
export const inactivityRule: Rule = {
  id: 'inactivity',
  kinds: ['inactivity'],
  ensure(ctx) {
    if (!ctx.hasTimer('idle')) {
      // Only a new home lacks the timer (it re-arms itself when it fires), so never arm it in the past.
      const since = sinceOf(ctx);
      ctx.setTimer('idle', Math.max(since, ctx.now) + hoursFor(ctx) * 3600_000, { since });
    }
    const check = ctx.settings.inactivity.morningCheck;
    if (ctx.hasMotionSensor && check !== false && !ctx.hasTimer('morning')) {
      ctx.setTimer('morning', nextLocalTime(ctx.now, ctx.tz, check));
    }
    if (!canAsk(ctx)) return;
    if (!ctx.hasTimer('ask')) ctx.setTimer('ask', Math.max(askDue(ctx, sinceOf(ctx)), ctx.now));
    if (ctx.hasMotionSensor && check !== false && !ctx.hasTimer('morning-ask')) {
      const at = morningAskTime(check, morningAskLead(ctx, check));
      ctx.setTimer('morning-ask', nextLocalTime(ctx.now, ctx.tz, at));
    }
    const daily = ctx.settings.checkin.dailyAt;
    if (daily !== false && !ctx.hasTimer('daily'))
      ctx.setTimer('daily', nextLocalTime(ctx.now, ctx.tz, daily));
  },
  onEvent(event, ctx) {
    if (!ACTIVITY_EVENTS.has(event.type)) return [];
    const before = sinceOf(ctx);
    const r = ctx.rhythm();
    learnSpell(ctx, r, event.at);
    // An answer to the prompt (a check-in), or any other sign of the resident, concludes it.
    if (r.pending) conclude(ctx, event.type === 'checkin' ? 'answered' : 'activity', event.at);
    if (canAsk(ctx)) {
      const due = askDue(ctx, event.at);
      const cur = ctx.timerDue('ask');
      if (cur === undefined || cur > due) ctx.setTimer('ask', due);
    }
    // As with supervision: the idle timer is not moved on every activity. When it fires early it
    // moves itself to `hours` after `lastActivityAt` (onTimer), so the check falls where it always did.
    const dueBy = event.at + hoursFor(ctx) * 3600_000;
    const due = ctx.timerDue('idle');
    if (due === undefined || due > dueBy) ctx.setTimer('idle', dueBy, { since: event.at });
    const mergeKey = `inactivity:${ctx.home.id}`;
    const open = ctx.openAlert(mergeKey);
    if (open && before <= open.raisedAtMs) {
      const key = event.type === 'checkin' ? 'note.checkin_pressed' : 'note.activity_resumed';
      return [{ type: 'annotate', mergeKey, note: { key } }];
    }
    return [];
  },
  onTimer(key, _data, ctx) {
    if (key === 'idle') {
      const since = sinceOf(ctx);
      const hours = hoursFor(ctx);
      if (since + hours * 3600_000 > ctx.now) {
        ctx.setTimer('idle', since + hours * 3600_000, { since });
        return [];
      }
      const pending = ctx.rhythm().pending;
      if (pending) {
        // Asked just before the maximum (or late, after a restart): the answer is awaited first.
        if (pending.answerBy > ctx.now) {
          ctx.setTimer('idle', pending.answerBy, { since });
          return [];
        }
        return missed(ctx);
      }
      // Still nothing a whole period later: check again then (an open alert absorbs it).
      ctx.setTimer('idle', ctx.now + hours * 3600_000, { since });
      return raise(ctx, { key: 'note.inactivity_hours', params: { hours: String(hours) } });
    }
    if (key === 'ask') {
      if (!canAsk(ctx)) return [];
      const since = sinceOf(ctx);
      const due = askDue(ctx, since);
      if (due > ctx.now) {
        ctx.setTimer('ask', due);
        return [];
      }
      // Away: returning home arms it afresh. Out (door last, motion sensor): nobody to ask; the maximum applies.
      // Already alarmed for this spell: nothing to ask.
      const r = ctx.rhythm();
      if (ctx.isSuppressed('inactivity') || probablyOut(ctx) || r.pending || r.alarmedSpell === since)
        return [];
      // Fired late, past the maximum: the idle check alarms.
      const latest = since + maxMs(ctx) - waitMs(ctx) * requestsPerSpell(ctx);
      if (ctx.now >= since + maxMs(ctx)) return [];
      // Nobody is woken by a beep at night. Where there is a morning check, it asks about the night
      // and a quiet spell that began before the night ended; elsewhere the question waits for the
      // night's end. Unless the maximum comes first: then it is asked just before it.
      const later = deferredAsk(ctx);
      if (later !== null) {
        // The morning check's own question comes first: nothing to arm (activity re-arms this one).
        if (later.at < latest) {
          if (later.by === 'night-end') ctx.setTimer('ask', later.at);
          return [];
        }
        if (ctx.now < latest) {
          ctx.setTimer('ask', latest);
          return [];
        }
      }
      return ask(ctx, 'quiet', ctx.now + waitMs(ctx), since, since + maxMs(ctx));
    }
    if (key === 'answer') {
      const pending = ctx.rhythm().pending;
      if (!pending || pending.answerBy > ctx.now) return [];
      // Perhaps not heard (hard of hearing, asleep): asked again while the maximum allows the wait.
      return askAgain(ctx) ?? missed(ctx);
    }
    if (key === 'morning-ask') {
      const check = ctx.settings.inactivity.morningCheck;
      if (check === false || !ctx.hasMotionSensor || !canAsk(ctx)) return [];
      const at = morningAskTime(check, morningAskLead(ctx, check));
      ctx.setTimer('morning-ask', nextLocalTime(ctx.now, ctx.tz, at));
      if (ctx.isSuppressed('inactivity') || !quietSinceNightEnd(ctx) || ctx.rhythm().pending) return [];
      const checkAt = nextLocalTime(ctx.now, ctx.tz, check);
      return ask(ctx, 'morning', Math.min(checkAt, ctx.now + waitMs(ctx)), sinceOf(ctx), checkAt);
    }
    if (key === 'morning') {
      const check = ctx.settings.inactivity.morningCheck;
      if (check !== false) ctx.setTimer('morning', nextLocalTime(ctx.now, ctx.tz, check));
      if (!ctx.hasMotionSensor || !quietSinceNightEnd(ctx)) return [];
      // Asked and no answer: the morning check is due, with the prompt on the alert's timeline.
      if (ctx.rhythm().pending) return missed(ctx);
      return raise(ctx, { key: 'note.morning_check', params: { time: check === false ? '' : check } });
    }
    if (key === 'daily') {
      const at = ctx.settings.checkin.dailyAt;
      if (at === false || !canAsk(ctx)) return [];
      ctx.setTimer('daily', nextLocalTime(ctx.now, ctx.tz, at));
      if (ctx.isSuppressed('inactivity') || !quietSinceNightEnd(ctx) || ctx.rhythm().pending) return [];
      return ask(ctx, 'daily', ctx.now + waitMs(ctx), sinceOf(ctx));
    }
    return [];
  },
  onModeChange(from, ctx) {
    const mode = ctx.state.mode;
    if (mode === 'away' && from !== 'away') {
      const r = ctx.rhythm();
      conclude(ctx, 'withdrawn', ctx.now);
      ctx.cancelTimer('ask');
      r.awaySince = ctx.now;
      r.learnFrom = ctx.now;
      ctx.rhythmChanged();
    } else if (from === 'away' && mode !== 'away') {
      const r = ctx.rhythm();
      // A long stay away (hospital) often brings a new routine home: learn afresh.
      if (r.awaySince !== null && ctx.now - r.awaySince >= RELEARN_AFTER_AWAY_MS) forgetSpells(r, ctx.now);
      else r.learnFrom = ctx.now;
      r.awaySince = null;
      // Timed afresh from the return (ensure runs next).
      ctx.cancelTimer('ask');
      ctx.rhythmChanged();
    }
  },
  onStart(ctx) {
    const pending = ctx.rhythm().pending;
    // The request may have been lost with the hub: sent again as it was (a device answers it once).
    return pending && pending.answerBy > ctx.now ? [requestCommand(ctx, pending)] : [];
  },
};
