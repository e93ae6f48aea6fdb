import type { Aedes, AedesOptions } from 'aedes';

type PublishPacket = Parameters<NonNullable<AedesOptions['authorizePublish']>>[1];

/** Where acknowledged-but-not-forwarded publishes go: a $-topic no client may subscribe to (ACL) and `#` never matches. */
export const DISCARD_TOPIC = '$carehub/discard';

const EMPTY = Buffer.alloc(0);

/**
 * Acknowledge a publish but forward nothing of it: device events are for the hub alone (the journal
 * has them), and refused publishes are dropped. aedes still sends the PUBACK.
 */
export function discard(packet: PublishPacket): void {
  packet.topic = DISCARD_TOPIC;
  packet.retain = false;
  packet.payload = EMPTY;
}

/**
 * aedes routes every acknowledged publish through its publish pipeline (retained store, mqemitter,
 * the offline queue's subscription lookup), about ten allocations and a promise per message. A
 * discarded publish has no subscriber by construction, so it skips that pipeline: at 10 000 device
 * events/s this was ~5 % of the hub's CPU and a good part of its short-lived garbage.
 */
export function skipDiscardedPublishes(aedes: Aedes): void {
  // aedes' own handlers call publish(packet, client, done); its types know only (packet, done).
  type Done = (error?: Error | null) => void;
  type Publish = (packet: PublishPacket, client?: unknown, done?: Done) => void;
  const inner = aedes as unknown as { publish: Publish };
  const publish = inner.publish.bind(aedes);
  inner.publish = (packet, client, done) => {
    if (packet.topic !== DISCARD_TOPIC) {
      publish(packet, client, done);
      return;
    }
    const cb = typeof client === 'function' ? (client as Done) : done;
    cb?.(null);
  };
}
