import { inLocalWindow } from '../time/local.js';
import type { Decision, Rule, RuleContext } from './types.js';

const isNight = (ctx: RuleContext, at: number) =>
  inLocalWindow(at, ctx.tz, ctx.settings.nightWindow.start, ctx.settings.nightWindow.end);

const mergeKeyOf = (ctx: RuleContext) => `night_exit:${ctx.home.id}`;

function raise(ctx: RuleContext, deviceId: string | null, noteKey: string): Decision[] {
  const mergeKey = mergeKeyOf(ctx);
  // One situation, one alert: a later sign of the same exit is a note, not another occurrence.
  if (ctx.openAlert(mergeKey)) return [{ type: 'annotate', mergeKey, note: { key: noteKey } }];
  return [
    {
      type: 'raise',
      kind: 'night_exit',
      severity: 'high',
      mergeKey,
      homeId: ctx.home.id,
      deviceId,
      note: { key: noteKey },
    },
  ];
}

/**
 * In the home's night window: a resident at risk of wandering → the moment the door opens;
 * otherwise the door left open for `openMinutes`, or (with a motion sensor) the door opened and
 * closed and nothing moved inside for `noReturnMinutes` after — the resident left and is not back.
 */
export const nightExitRule: Rule = {
  id: 'night_exit',
  kinds: ['night_exit'],
  onEvent(event, ctx) {
    if (event.type === 'motion.detected') {
      ctx.cancelTimer('noreturn');
      return [];
    }
    if (event.type !== 'door.opened' && event.type !== 'door.closed') return [];
    const atNight = isNight(ctx, event.at);
    const wasOpen = ctx.state.doors[event.deviceId]?.open === true;
    if (event.type === 'door.opened' && !wasOpen && atNight) {
      ctx.setTimer(`open:${event.deviceId}`, event.at + ctx.settings.nightExit.openMinutes * 60_000, {
        deviceId: event.deviceId,
      });
      if (ctx.wanderingRisk) return raise(ctx, event.deviceId, 'note.night_exit_wandering');
      return [];
    }
    if (event.type === 'door.closed' && wasOpen) {
      ctx.cancelTimer(`open:${event.deviceId}`);
      const openedAt = ctx.state.doors[event.deviceId]?.since ?? event.at;
      if (ctx.hasMotionSensor && (atNight || isNight(ctx, openedAt))) {
        ctx.setTimer('noreturn', event.at + ctx.settings.nightExit.noReturnMinutes * 60_000, {
          deviceId: event.deviceId,
          closedAt: event.at,
        });
      }
    }
    return [];
  },
  onTimer(key, data, ctx) {
    const deviceId = String(data.deviceId);
    if (key.startsWith('open:')) {
      if (ctx.state.doors[deviceId]?.open !== true) return [];
      return raise(ctx, deviceId, 'note.night_exit_open');
    }
    if (key === 'noreturn') {
      const closedAt = Number(data.closedAt);
      if ((ctx.state.lastMotionAt ?? 0) > closedAt) return [];
      return raise(ctx, deviceId, 'note.night_exit_not_back');
    }
    return [];
  },
};
