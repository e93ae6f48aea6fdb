import type { Rule } from './types.js';

/** One SOS alert per home while unresolved: every press counts and re-notifies; nothing is dropped. */
export const sosRule: Rule = {
  id: 'sos',
  kinds: ['sos'],
  onEvent(event, ctx) {
    const mergeKey = `sos:${event.homeId}`;
    if (event.type === 'sos.pressed') {
      return [
        {
          type: 'raise',
          kind: 'sos',
          severity: 'critical',
          mergeKey,
          homeId: event.homeId,
          deviceId: event.deviceId,
        },
      ];
    }
    if (event.type === 'sos.cancelled' && ctx.openAlert(mergeKey)) {
      return [{ type: 'annotate', mergeKey, note: { key: 'note.sos_cancelled' }, cancelledByResident: true }];
    }
    return [];
  },
};
