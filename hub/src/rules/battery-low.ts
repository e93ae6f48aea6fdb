import type { Rule } from './types.js';

/** Hysteresis: a device counts as recovered only well above the threshold, so 20 % ↔ 21 % does not flap. */
const RECOVERY_MARGIN = 10;

/** Once per device until it recovers (battery replaced or recharged). */
export const batteryLowRule: Rule = {
  id: 'battery_low',
  kinds: ['battery_low'],
  onEvent(event, ctx) {
    if (event.battery === undefined && event.batteryLow === undefined) return [];
    const threshold = ctx.settings.batteryLow.percent;
    const low = event.batteryLow === true || (event.battery !== undefined && event.battery <= threshold);
    const flagged = ctx.state.batteryLow[event.deviceId] === true;
    // In maintenance the alert is silenced: leave the flag unset so it is raised once maintenance ends.
    if (low && !flagged && !ctx.isSuppressed('battery_low')) {
      ctx.state.batteryLow[event.deviceId] = true;
      return [
        {
          type: 'raise',
          kind: 'battery_low',
          severity: 'low',
          mergeKey: `battery_low:${event.deviceId}`,
          homeId: event.homeId,
          deviceId: event.deviceId,
          note: {
            key: 'note.battery_level',
            params: { level: event.battery === undefined ? '?' : String(event.battery) },
          },
        },
      ];
    }
    const recovered =
      (event.battery !== undefined &&
        event.battery >= threshold + RECOVERY_MARGIN &&
        event.batteryLow !== true) ||
      (event.battery === undefined && event.batteryLow === false);
    if (flagged && recovered) delete ctx.state.batteryLow[event.deviceId];
    return [];
  },
};
