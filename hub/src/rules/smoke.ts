import type { Rule } from './types.js';

/** Smoke is always critical and never auto-resolved: a cleared detector only adds a note. `smoke.test` is no fire. */
export const smokeRule: Rule = {
  id: 'smoke',
  onEvent(event, ctx) {
    const mergeKey = `smoke:${event.homeId}`;
    if (event.type === 'smoke.detected') {
      return [{ type: 'raise', kind: 'smoke', severity: 'critical', mergeKey, homeId: event.homeId, deviceId: event.deviceId }];
    }
    if (event.type === 'smoke.cleared' && ctx.openAlert(mergeKey)) {
      return [{ type: 'annotate', mergeKey, noteKey: 'note.smoke_cleared' }];
    }
    return [];
  },
};
