import { Readable } from 'node:stream';
import { requireFromAedes } from './aedes-fit/aedes-deps.js';

/**
 * The broker's session store: aedes' persistence (subscriptions of persistent sessions, the messages
 * queued for them, retained messages, wills), with the hub's access rules applied where aedes does
 * not apply them. aedes 1.2 gets its store through the `persistence` option; this one wraps aedes'
 * own in-memory store (aedes-persistence) and changes three things:
 *
 * 1. Only granted subscriptions are kept. aedes stores a SUBSCRIBE's whole list with a persistent
 *    session (lib/handlers/subscribe.js, storeSubscriptions: `addSubscriptions(client,
 *    packet.subscriptions)`, the entries authorizeSubscribe refused included, at the QoS asked for).
 *    Every QoS 1 message matching any stored filter was then queued for the device, and delivered
 *    after its next reconnect (connect.js emptyQueue), other homes' commands included. The store now
 *    keeps each filter only at the QoS the ACL grants, and hands back only those still granted.
 * 2. A message is queued for a client only if the ACL lets that client receive it (the same rule as
 *    aedes' authorizeForward, which aedes also checks when it delivers).
 * 3. Each client's queue (messages waiting while it is away, and those sent but not yet
 *    acknowledged) holds at most `maxQueued` messages; past it the oldest is dropped and counted. A
 *    device needs the newest few commands after a short absence, not an unbounded backlog.
 */

type QoS = 0 | 1 | 2;

export interface StoredPacket {
  cmd?: string;
  topic: string;
  qos?: number;
  messageId?: number | undefined;
  brokerId?: string | undefined;
  brokerCounter?: number | undefined;
  [k: string]: unknown;
}

interface StoredSubscription {
  topic: string;
  qos: QoS;
  [k: string]: unknown;
}

interface ClientRef {
  id: string;
  [k: string]: unknown;
}

/** The in-memory persistence of aedes-persistence 11 (promise API), as far as this wrapper uses it. */
interface MemoryPersistence {
  setup(broker: unknown): Promise<void>;
  storeRetained(packet: unknown): Promise<void>;
  createRetainedStream(pattern: string): Readable;
  createRetainedStreamCombi(patterns: string[]): Readable;
  addSubscriptions(client: ClientRef, subs: StoredSubscription[]): Promise<void>;
  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void>;
  subscriptionsByClient(client: ClientRef): Promise<StoredSubscription[]>;
  subscriptionsByTopic(topic: string): Promise<unknown[]>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  countOffline(): Promise<{ subsCount: number; clientsCount: number }>;
  incomingStorePacket(client: ClientRef, packet: unknown): Promise<void>;
  incomingGetPacket(client: ClientRef, packet: unknown): Promise<unknown>;
  incomingDelPacket(client: ClientRef, packet: unknown): Promise<void>;
  cleanIncoming(client: ClientRef): Promise<void>;
  putWill(client: ClientRef, packet: unknown): Promise<void>;
  getWill(client: ClientRef): Promise<unknown>;
  delWill(client: ClientRef): Promise<unknown>;
  streamWill(brokers?: unknown): Readable;
  getClientList(topic: string): Readable;
  destroy(): Promise<void>;
}

const memoryPersistence = requireFromAedes('aedes-persistence') as () => MemoryPersistence;
const AedesPacket = requireFromAedes('aedes-packet') as new (original: StoredPacket) => StoredPacket;

/** The access rules the store applies (acl.ts, TopicAcl). */
export interface SessionRules {
  grant(clientId: string, filter: string, requested: QoS): QoS | null;
  mayReceive(clientId: string, topic: string): boolean;
}

export type QueueDrop = 'queue_full' | 'not_authorised';

export class SessionStore {
  readonly #inner = memoryPersistence();
  /** clientId → messages queued or in flight, oldest first (aedes-persistence keeps the same per client). */
  readonly #outgoing = new Map<string, StoredPacket[]>();

  constructor(
    private readonly rules: SessionRules,
    private readonly maxQueued: number,
    private readonly onDrop: (clientId: string, reason: QueueDrop, topic: string) => void,
  ) {}

  /** Messages held for `clientId` (for tests and metrics). */
  queued(clientId: string): number {
    return this.#outgoing.get(clientId)?.length ?? 0;
  }

  // aedes checks `setup.constructor.name === 'AsyncFunction'`.
  async setup(broker: unknown): Promise<void> {
    await this.#inner.setup(broker);
  }

  // --- subscriptions of persistent sessions: only what the ACL grants ---

  async addSubscriptions(client: ClientRef, subs: StoredSubscription[]): Promise<void> {
    const granted: StoredSubscription[] = [];
    for (const sub of subs) {
      const qos = this.rules.grant(client.id, sub.topic, sub.qos);
      if (qos !== null) granted.push({ ...sub, qos });
    }
    if (granted.length > 0) await this.#inner.addSubscriptions(client, granted);
  }

  async subscriptionsByClient(client: ClientRef): Promise<StoredSubscription[]> {
    const subs = await this.#inner.subscriptionsByClient(client);
    // A session kept from before a change of the site (a device removed, a gateway's base topic moved).
    return subs.filter((s) => this.rules.grant(client.id, s.topic, s.qos) !== null);
  }

  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
    return this.#inner.removeSubscriptions(client, topics);
  }
  subscriptionsByTopic(topic: string): Promise<unknown[]> {
    return this.#inner.subscriptionsByTopic(topic);
  }
  cleanSubscriptions(client: ClientRef): Promise<void> {
    return this.#inner.cleanSubscriptions(client);
  }
  countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return this.#inner.countOffline();
  }

  // --- messages queued for a client: authorised, bounded, newest kept ---

  async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    this.#enqueue(sub.clientId, packet);
  }

  async outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: StoredPacket): Promise<void> {
    for (const sub of subs) this.#enqueue(sub.clientId, packet);
  }

  #enqueue(clientId: string, packet: StoredPacket): void {
    if (!this.rules.mayReceive(clientId, packet.topic)) {
      this.onDrop(clientId, 'not_authorised', packet.topic);
      return;
    }
    let queue = this.#outgoing.get(clientId);
    if (!queue) {
      queue = [];
      this.#outgoing.set(clientId, queue);
    }
    queue.push(new AedesPacket(packet));
    if (queue.length > this.maxQueued) {
      const dropped = queue.shift() as StoredPacket;
      this.onDrop(clientId, 'queue_full', dropped.topic);
    }
  }

  /**
   * aedes records the packet identifier it gave a queued message (or replaces a QoS 2 PUBLISH by its
   * PUBREL). A message no longer here was dropped from a full queue while aedes was sending it: it is
   * still sent, just not kept for redelivery (aedes-persistence throws instead, and aedes then closes
   * the device's connection).
   */
  async outgoingUpdate(client: ClientRef, packet: StoredPacket): Promise<void> {
    const queue = this.#outgoing.get(client.id);
    if (!queue) return;
    for (let i = 0; i < queue.length; i++) {
      const held = queue[i] as StoredPacket;
      if (held.brokerId === packet.brokerId) {
        if (held.brokerCounter === packet.brokerCounter) {
          held.messageId = packet.messageId;
          return;
        }
      } else if (held.messageId === packet.messageId) {
        queue[i] = packet;
        return;
      }
    }
  }

  async outgoingClearMessageId(client: ClientRef, packet: StoredPacket): Promise<StoredPacket | undefined> {
    const queue = this.#outgoing.get(client.id);
    // Only an acknowledgement clears a message. aedes also calls this with a publish that has no
    // packet identifier yet (a delivery authorizeForward refused), which aedes-persistence would take
    // for the first queued message not yet sent, and drop it.
    if (!queue || packet.messageId === undefined) return undefined;
    for (let i = 0; i < queue.length; i++) {
      const held = queue[i] as StoredPacket;
      if (held.messageId === packet.messageId) {
        queue.splice(i, 1);
        if (queue.length === 0) this.#outgoing.delete(client.id);
        return held;
      }
    }
    return undefined;
  }

  outgoingStream(client: ClientRef): Readable {
    return Readable.from([...(this.#outgoing.get(client.id) ?? [])]);
  }

  // --- everything else: aedes-persistence as it is ---

  storeRetained(packet: unknown): Promise<void> {
    return this.#inner.storeRetained(packet);
  }
  createRetainedStream(pattern: string): Readable {
    return this.#inner.createRetainedStream(pattern);
  }
  createRetainedStreamCombi(patterns: string[]): Readable {
    return this.#inner.createRetainedStreamCombi(patterns);
  }
  incomingStorePacket(client: ClientRef, packet: unknown): Promise<void> {
    return this.#inner.incomingStorePacket(client, packet);
  }
  incomingGetPacket(client: ClientRef, packet: unknown): Promise<unknown> {
    return this.#inner.incomingGetPacket(client, packet);
  }
  incomingDelPacket(client: ClientRef, packet: unknown): Promise<void> {
    return this.#inner.incomingDelPacket(client, packet);
  }
  cleanIncoming(client: ClientRef): Promise<void> {
    return this.#inner.cleanIncoming(client);
  }
  putWill(client: ClientRef, packet: unknown): Promise<void> {
    return this.#inner.putWill(client, packet);
  }
  getWill(client: ClientRef): Promise<unknown> {
    return this.#inner.getWill(client);
  }
  delWill(client: ClientRef): Promise<unknown> {
    return this.#inner.delWill(client);
  }
  streamWill(brokers?: unknown): Readable {
    return this.#inner.streamWill(brokers);
  }
  getClientList(topic: string): Readable {
    return this.#inner.getClientList(topic);
  }
  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
