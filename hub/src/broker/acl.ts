import { TOPIC_PREFIX } from '../protocol/topics.js';
import type { DeviceEntry, Directory } from '../site/directory.js';

/** PROTOCOL.md §1: a device publishes only under its own prefix; a gateway also under its base topic. */
export function mayPublish(directory: Directory, entry: DeviceEntry, topic: string): boolean {
  if (topic === entry.eventsTopic || topic === entry.statusTopic) return true;
  if (entry.device.kind === 'gateway') {
    const base = `${directory.gatewayBaseTopic(entry.device)}/`;
    return topic.startsWith(base);
  }
  return false;
}

/** A device subscribes only to its own commands topic; a gateway also to its base topic's tree. */
export function maySubscribe(directory: Directory, entry: DeviceEntry, topic: string): boolean {
  if (topic === `${TOPIC_PREFIX}${entry.device.id}/commands`) return true;
  if (entry.device.kind === 'gateway') {
    const base = directory.gatewayBaseTopic(entry.device);
    return topic === base || topic.startsWith(`${base}/`);
  }
  return false;
}
