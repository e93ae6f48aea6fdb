import type { Rule } from './types.js';

/** One SOS alert per home while unresolved: every press counts, re-notifies, and is never dropped. */
export const sosRule: Rule = {
  id: 'sos',
  onEvent(event, ctx) {
    const mergeKey = `sos:${event.homeId}`;
    if (event.type === 'sos.pressed') {
      return [{ type: 'raise', kind: 'sos', severity: 'critical', mergeKey, homeId: event.homeId, deviceId: event.deviceId }];
    }
    if (event.type === 'sos.cancelled' && ctx.openAlert(mergeKey)) {
      return [{ type: 'annotate', mergeKey, noteKey: 'note.sos_cancelled', cancelledByResident: true }];
    }
    return [];
  },
};
