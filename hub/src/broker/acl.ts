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

export type QoS = 0 | 1 | 2;

/** The highest QoS the hub grants a device on any subscription (PROTOCOL.md: commands are QoS 1). */
export const DEVICE_MAX_QOS = 1;

/**
 * Who may subscribe to what and who may be sent what, for every client of the broker, in one place.
 * A device (client id = a configured device id) gets its own commands topic (a gateway also its base
 * topic's tree) at QoS 1 at most. In lab mode (`mqtt.lab`) any other client is a lab client: any
 * filter at the QoS it asks for, but nothing under `carehub/` is ever delivered to it. Outside lab
 * mode no other client is ever admitted, and nothing is granted or delivered to one.
 *
 * Delivery uses the subscription rule applied to the message's topic: a message reaches a client
 * only when that client could have subscribed to exactly that topic. So whatever way a subscription
 * came to exist (a session restored after a reconnect, a site change since it was granted), it can
 * never carry more than the client may subscribe to now.
 */
export class TopicAcl {
  constructor(
    private readonly directory: Directory,
    private readonly lab: boolean,
  ) {}

  /**
   * In lab mode: whether a CONNECT with these identifiers is a lab client (neither its client id nor
   * its user name is a configured device). The same test decides how it is authenticated.
   */
  isLabClient(clientId: string | null | undefined, username: string | undefined): boolean {
    if (!this.lab) return false;
    if (username && this.directory.device(username)) return false;
    return !(clientId && this.directory.device(clientId));
  }

  /** The highest QoS a CONNECT with these identifiers will ever be granted on a subscription. */
  maxQos(clientId: string | null | undefined, username: string | undefined): QoS {
    return this.isLabClient(clientId, username) ? 2 : DEVICE_MAX_QOS;
  }

  /** The QoS granted to `clientId` for `filter` when it asks for `requested`, or null: refused. */
  grant(clientId: string, filter: string, requested: QoS): QoS | null {
    const entry = this.directory.device(clientId);
    if (entry)
      return maySubscribe(this.directory, entry, filter)
        ? (Math.min(requested, DEVICE_MAX_QOS) as QoS)
        : null;
    return this.lab ? requested : null;
  }

  /** Whether a message on `topic` may be delivered to `clientId` (forwarded now or queued for it). */
  mayReceive(clientId: string, topic: string): boolean {
    const entry = this.directory.device(clientId);
    if (entry) return maySubscribe(this.directory, entry, topic);
    return this.lab && !topic.startsWith('carehub/');
  }
}
