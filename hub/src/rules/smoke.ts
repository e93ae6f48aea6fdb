import type { Rule } from './types.js';

/** Smoke is critical and never auto-resolved: a cleared detector only adds a note. A test press is no fire. */
export const smokeRule: Rule = {
  id: 'smoke',
  kinds: ['smoke'],
  onEvent(event, ctx) {
    const mergeKey = `smoke:${event.homeId}`;
    if (event.type === 'smoke.detected') {
      return [
        {
          type: 'raise',
          kind: 'smoke',
          severity: 'critical',
          mergeKey,
          homeId: event.homeId,
          deviceId: event.deviceId,
        },
      ];
    }
    if (event.type === 'smoke.test') {
      ctx.state.lastSmokeTestAt[event.deviceId] = event.at;
      return [];
    }
    if (event.type === 'smoke.cleared' && ctx.openAlert(mergeKey)) {
      return [{ type: 'annotate', mergeKey, note: { key: 'note.smoke_cleared' } }];
    }
    return [];
  },
};
