import type { Directory } from '../site/directory.js';
import type { AlertChange } from './alert-change.js';

/**
 * PROTOCOL.md §1 hub → device commands, sent after the change is committed: the device that
 * pressed hears "received"; every device that pressed hears "acknowledged" and "resolved".
 */
export function commandsFor(
  change: AlertChange,
  directory: Directory,
): Array<{ deviceId: string; message: object }> {
  const alert = change.record.alert;
  const alertId = alert.id;
  const all = change.record.notifyDeviceIds ?? (alert.deviceId ? [alert.deviceId] : []);
  const known = (ids: string[]) => ids.filter((id) => directory.device(id) !== undefined);
  switch (change.cause) {
    case 'raised':
    case 'repeated': {
      const to = change.sourceDeviceId ?? alert.deviceId;
      return to
        ? known([to]).map((deviceId) => ({ deviceId, message: { type: 'alert.received', alertId } }))
        : [];
    }
    case 'acknowledged':
      return known(all).map((deviceId) => ({
        deviceId,
        message: { type: 'alert.acknowledged', alertId, by: change.staff?.name ?? '' },
      }));
    case 'resolved':
      return known(all).map((deviceId) => ({ deviceId, message: { type: 'alert.resolved', alertId } }));
    default:
      return [];
  }
}
