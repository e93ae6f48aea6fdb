import type { RuleSettings } from '../config/rules-schema.js';
import type { AlertRecord } from '../model/alert.js';
import type { TimerRow } from '../model/timer.js';
import type { ChangeCause } from './alert-change.js';

export interface TimerPlan {
  set: TimerRow[];
  cancel: string[];
}

const keys = (alertId: string) => ({
  l1: `esc:${alertId}:1`,
  l2: `esc:${alertId}:2`,
  reminder: `esc:${alertId}:reminder`,
});

/**
 * The escalation ladder as timers: unacknowledged → level 1 (supervisors) → level 2 (everyone on
 * duty); acknowledged and unresolved → a reminder, repeated, until resolved.
 */
export function escalationPlan(
  rec: AlertRecord,
  cause: ChangeCause,
  settings: RuleSettings['escalation'],
  now: number,
): TimerPlan {
  const k = keys(rec.alert.id);
  const homeId = rec.alert.homeId;
  const timer = (key: string, dueAt: number, step: string): TimerRow => ({
    key,
    homeId,
    dueAt,
    data: { owner: 'alert', alertId: rec.alert.id, step },
  });
  switch (cause) {
    case 'raised':
      return {
        set: [
          timer(k.l1, rec.raisedAtMs + settings.level1Seconds * 1000, '1'),
          timer(k.l2, rec.raisedAtMs + settings.level2Seconds * 1000, '2'),
        ],
        cancel: [],
      };
    case 'acknowledged':
      return {
        set: [timer(k.reminder, now + settings.reminderMinutes * 60_000, 'reminder')],
        cancel: [k.l1, k.l2],
      };
    case 'resolved':
      return { set: [], cancel: [k.l1, k.l2, k.reminder] };
    default:
      return { set: [], cancel: [] };
  }
}
