import type { Rule } from './types.js';

/** A door open longer than the limit, at any hour. Flapping (open/close/open) restarts the count. */
export const doorLeftOpenRule: Rule = {
  id: 'door_left_open',
  kinds: ['door_left_open'],
  onEvent(event, ctx) {
    if (event.type !== 'door.opened' && event.type !== 'door.closed') return [];
    const key = `open:${event.deviceId}`;
    const wasOpen = ctx.state.doors[event.deviceId]?.open === true;
    if (event.type === 'door.opened' && !wasOpen) {
      ctx.setTimer(key, event.at + ctx.settings.doorLeftOpen.minutes * 60_000, { deviceId: event.deviceId });
    }
    if (event.type === 'door.closed' && wasOpen) {
      ctx.cancelTimer(key);
      const mergeKey = `door_left_open:${event.deviceId}`;
      if (ctx.openAlert(mergeKey)) return [{ type: 'annotate', mergeKey, note: { key: 'note.door_closed' } }];
    }
    return [];
  },
  onTimer(_key, data, ctx) {
    const deviceId = String(data.deviceId);
    if (ctx.state.doors[deviceId]?.open !== true) return [];
    return [
      {
        type: 'raise',
        kind: 'door_left_open',
        severity: 'medium',
        mergeKey: `door_left_open:${deviceId}`,
        homeId: ctx.home.id,
        deviceId,
        note: {
          key: 'note.door_open_minutes',
          params: { minutes: String(ctx.settings.doorLeftOpen.minutes) },
        },
      },
    ];
  },
};
