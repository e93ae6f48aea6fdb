import { Readable } from 'node:stream';
import type { Aedes } from 'aedes';

/** The part of aedes' persistence (aedes-persistence, in memory) that keeps retained messages. */
interface RetainedStore {
  storeRetained(packet: RetainedPacket, cb?: (err?: Error | null) => void): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
  createRetainedStream(pattern: string): Readable;
}

interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

const isExact = (filter: string) => !filter.includes('+') && !filter.includes('#');

/**
 * aedes' memory persistence answers every SUBSCRIBE by testing the filter against every retained
 * topic. Each device retains its status and subscribes to its commands topic, so admitting N devices
 * cost O(N²): at 10 000 devices about 1.5 ms of CPU per SUBSCRIBE, a third of the hub's CPU while
 * devices connect (bench, scenarios 1 and 4). This keeps an index of retained messages by topic next
 * to the persistence's own store and answers filters without wildcards (every device subscription)
 * from it; filters with wildcards (gateways) still go to the persistence. Same messages, same order.
 */
export function indexRetained(aedes: Aedes): void {
  const store = (aedes as unknown as { persistence: RetainedStore }).persistence;
  const byTopic = new Map<string, RetainedPacket>();
  const storeRetained = store.storeRetained.bind(store);
  const combi = store.createRetainedStreamCombi.bind(store);
  const single = store.createRetainedStream.bind(store);
  store.storeRetained = (packet, cb) => {
    // As the persistence does: a copy of the packet, and an empty payload clears the topic.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return storeRetained(packet, cb);
  };
  const exact = (patterns: readonly string[]) =>
    Readable.from(patterns.map((p) => byTopic.get(p)).filter((p): p is RetainedPacket => p !== undefined));
  store.createRetainedStreamCombi = (patterns) =>
    patterns.every(isExact) ? exact(patterns) : combi(patterns);
  store.createRetainedStream = (pattern) => (isExact(pattern) ? exact([pattern]) : single(pattern));
}
