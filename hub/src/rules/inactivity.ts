import { nextLocalTime, previousLocalTime } from '../time/local.js';
import { ACTIVITY_EVENTS, type Decision, type Rule, type RuleContext } from './types.js';

const hoursFor = (ctx: RuleContext) =>
  ctx.hasMotionSensor ? ctx.settings.inactivity.hoursWithMotion : ctx.settings.inactivity.hoursDoorOnly;

function raise(ctx: RuleContext, noteKey: string, params: Record<string, string> = {}): Decision[] {
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
      note: { key: noteKey, params },
    },
  ];
}

/**
 * No resident activity (door, motion, SOS) for N hours — 12 with a motion sensor, 24 for a
 * door-only home, where someone resting at home all day is normal and invisible. With a motion
 * sensor also the morning check: nothing moved between the end of the night and 10:00.
 */
export const inactivityRule: Rule = {
  id: 'inactivity',
  kinds: ['inactivity'],
  ensure(ctx) {
    if (!ctx.hasTimer('idle')) {
      // Only a new home lacks the timer (it re-arms itself when it fires), so never arm it in the past.
      const since = ctx.state.lastActivityAt ?? ctx.state.watchedSince;
      ctx.setTimer('idle', Math.max(since, ctx.now) + hoursFor(ctx) * 3600_000, { since });
    }
    const check = ctx.settings.inactivity.morningCheck;
    if (ctx.hasMotionSensor && check !== false && !ctx.hasTimer('morning')) {
      ctx.setTimer('morning', nextLocalTime(ctx.now, ctx.tz, check));
    }
  },
  onEvent(event, ctx) {
    if (!ACTIVITY_EVENTS.has(event.type)) return [];
    const before = ctx.state.lastActivityAt ?? ctx.state.watchedSince;
    // As with supervision: the idle timer is not moved on every activity. When it fires early it
    // moves itself to `hours` after `lastActivityAt` (onTimer), so the check falls where it always did.
    const dueBy = event.at + hoursFor(ctx) * 3600_000;
    const due = ctx.timerDue('idle');
    if (due === undefined || due > dueBy) ctx.setTimer('idle', dueBy, { since: event.at });
    const mergeKey = `inactivity:${ctx.home.id}`;
    const open = ctx.openAlert(mergeKey);
    if (open && before <= open.raisedAtMs)
      return [{ type: 'annotate', mergeKey, note: { key: 'note.activity_resumed' } }];
    return [];
  },
  onTimer(key, _data, ctx) {
    if (key === 'idle') {
      const since = ctx.state.lastActivityAt ?? ctx.state.watchedSince;
      const hours = hoursFor(ctx);
      if (since + hours * 3600_000 > ctx.now) {
        ctx.setTimer('idle', since + hours * 3600_000, { since });
        return [];
      }
      // Still nothing a whole period later: check again then (an open alert absorbs it).
      ctx.setTimer('idle', ctx.now + hours * 3600_000, { since });
      return raise(ctx, 'note.inactivity_hours', { hours: String(hours) });
    }
    if (key === 'morning') {
      const check = ctx.settings.inactivity.morningCheck;
      if (check !== false) ctx.setTimer('morning', nextLocalTime(ctx.now, ctx.tz, check));
      if (!ctx.hasMotionSensor) return [];
      const nightEnd = previousLocalTime(ctx.now, ctx.tz, ctx.settings.nightWindow.end);
      const last = ctx.state.lastActivityAt ?? Number.NEGATIVE_INFINITY;
      if (last >= nightEnd || ctx.state.watchedSince > nightEnd) return [];
      return raise(ctx, 'note.morning_check', { time: check === false ? '' : check });
    }
    return [];
  },
};
