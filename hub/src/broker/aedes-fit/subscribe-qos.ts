import type { EventEmitter } from 'node:events';
import type { QoS } from '../acl.js';

interface ParsedPacket {
  cmd?: string;
  clientId?: string;
  username?: string;
  subscriptions?: Array<{ qos: number }>;
}

/**
 * aedes 1.2 answers a SUBSCRIBE with the QoS the client asked for, not the QoS of the subscription
 * authorizeSubscribe returned: lib/handlers/subscribe.js takes each entry's `granted` from the
 * request before it asks authorizeSubscribe, and only a refusal (0x80) changes it. A device asking
 * for QoS 2 on its commands topic was told "granted 2" while aedes subscribed it at the QoS 1 the
 * ACL returned. So the request is capped where aedes reads it: on each SUBSCRIBE as the parser
 * hands it over, before aedes handles it, to the most this connection may ever be granted
 * (`maxQos`, decided from its CONNECT, the first packet of every connection: 1 for a device, 2 for
 * a lab client). SUBACK and subscription then agree.
 *
 * Call right after the parser is in place (after useLeanParser), before the client reads a byte.
 */
export function capSubscribeQos(
  client: unknown,
  maxQos: (clientId: string | undefined, username: string | undefined) => QoS,
): void {
  const parser = (client as { _parser?: EventEmitter })._parser;
  if (!parser) return;
  let cap: QoS = 1;
  parser.prependListener('packet', (packet: ParsedPacket) => {
    if (packet.cmd === 'connect') cap = maxQos(packet.clientId, packet.username);
    else if (packet.cmd === 'subscribe' && packet.subscriptions) {
      for (const sub of packet.subscriptions) if (sub.qos > cap) sub.qos = cap;
    }
  });
}
