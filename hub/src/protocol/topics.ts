export const TOPIC_PREFIX = 'carehub/v1/devices/';

export const deviceTopics = (deviceId: string) => ({
  prefix: `${TOPIC_PREFIX}${deviceId}/`,
  events: `${TOPIC_PREFIX}${deviceId}/events`,
  status: `${TOPIC_PREFIX}${deviceId}/status`,
  commands: `${TOPIC_PREFIX}${deviceId}/commands`,
});

export type DeviceTopic = { deviceId: string; channel: 'events' | 'status' | 'commands' };

/** `carehub/v1/devices/{id}/{events|status|commands}` → parts, or null for anything else. */
export function parseDeviceTopic(topic: string): DeviceTopic | null {
  if (!topic.startsWith(TOPIC_PREFIX)) return null;
  const rest = topic.slice(TOPIC_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const deviceId = rest.slice(0, slash);
  const channel = rest.slice(slash + 1);
  if (channel !== 'events' && channel !== 'status' && channel !== 'commands') return null;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(deviceId)) return null;
  return { deviceId, channel };
}
