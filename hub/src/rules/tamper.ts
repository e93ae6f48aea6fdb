import type { Rule } from './types.js';

export const tamperRule: Rule = {
  id: 'tamper',
  kinds: ['tamper'],
  onEvent(event) {
    if (event.type !== 'tamper') return [];
    return [
      {
        type: 'raise',
        kind: 'tamper',
        severity: 'medium',
        mergeKey: `tamper:${event.deviceId}`,
        homeId: event.homeId,
        deviceId: event.deviceId,
      },
    ];
  },
};
