import type { Directory } from '../site/directory.js';
import type { AlertChange } from './alert-service.js';

/** PROTOCOL.md §1 hub → device commands, sent after the change is committed. */
export function commandsFor(change: AlertChange, directory: Directory): Array<{ deviceId: string; message: object }> {
  const deviceId = change.record.alert.deviceId;
  if (!deviceId || !directory.device(deviceId)) return [];
  const alertId = change.record.alert.id;
  switch (change.cause) {
    case 'raised':
    case 'repeated':
      return [{ deviceId, message: { type: 'alert.received', alertId } }];
    case 'acknowledged':
      return [{ deviceId, message: { type: 'alert.acknowledged', alertId, by: change.staff?.name ?? '' } }];
    case 'resolved':
      return [{ deviceId, message: { type: 'alert.resolved', alertId } }];
    default:
      return [];
  }
}
