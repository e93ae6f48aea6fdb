import { decodeStatus } from '../protocol/decode.js';
import { parseZigbeeTopic } from '../protocol/zigbee2mqtt.js';
import type { DeviceEntry, Directory } from '../site/directory.js';

export type WillProblem = 'topic' | 'payload';

/** The will nearly every device sets (docs/protocol.md), recognised without parsing it. */
const OFFLINE = Buffer.from('{"state":"offline"}');

/**
 * Whether a device's Last Will may stand (PROTOCOL.md §1, docs/protocol.md "Status and Last Will"):
 * a will says "this device went offline", so it belongs on the device's own `status` topic with a
 * status payload, or, for a gateway, on its Zigbee2MQTT availability topics (`{base}/bridge/state`,
 * `{base}/{friendlyName}/availability` of a device mapped to it) with an availability payload. A will
 * anywhere else would be published by the hub on the device's behalf whenever its connection drops:
 * on its `events` topic an abrupt disconnect would raise an SOS. null when the will is fine.
 */
export function willProblem(
  directory: Directory,
  entry: DeviceEntry,
  topic: string,
  payload: Buffer,
  maxBytes: number,
): WillProblem | null {
  if (topic === entry.statusTopic)
    return payload.equals(OFFLINE) || decodeStatus(payload, maxBytes).ok ? null : 'payload';
  if (entry.device.kind !== 'gateway') return 'topic';
  const parsed = parseZigbeeTopic(directory.gatewayBaseTopic(entry.device), topic);
  if (
    !parsed ||
    !(
      parsed.kind === 'bridge_state' ||
      (parsed.kind === 'availability' &&
        directory.zigbeeDevice(entry.device.id, parsed.friendlyName) !== undefined)
    )
  )
    return 'topic';
  // Zigbee2MQTT's availability payload: {"state":"online"|"offline"} or, in older versions, the bare word.
  const bare = payload.toString('utf8').trim();
  if (bare === 'online' || bare === 'offline') return null;
  return decodeStatus(payload, maxBytes).ok ? null : 'payload';
}
