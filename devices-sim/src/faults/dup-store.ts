import { type IStore, Store } from 'mqtt';

type StorePacket = Parameters<IStore['put']>[0];

/**
 * An outgoing store that marks every message it hands back for resending with the DUP flag, as
 * MQTT 3.1.1 §3.3.1.1 requires for a redelivery (mqtt.js 5 resends without it). A device without
 * event ids depends on the flag: the hub matches such a redelivery by message id only when it is set.
 */
export class DupMarkingStore implements IStore {
  readonly #inner = new Store();
  readonly #held = new Map<number, StorePacket>();

  put(packet: StorePacket, cb: () => void): this {
    if (packet.messageId !== undefined) this.#held.set(packet.messageId, packet);
    this.#inner.put(packet, cb);
    return this;
  }

  createStream(): ReturnType<IStore['createStream']> {
    for (const p of this.#held.values()) if (p.cmd === 'publish') p.dup = true;
    return this.#inner.createStream();
  }

  del(packet: Parameters<IStore['del']>[0], cb: Parameters<IStore['del']>[1]): this {
    if (packet.messageId !== undefined) this.#held.delete(packet.messageId);
    this.#inner.del(packet, cb);
    return this;
  }

  get(packet: Parameters<IStore['get']>[0], cb: Parameters<IStore['get']>[1]): this {
    this.#inner.get(packet, cb);
    return this;
  }

  close(cb: Parameters<IStore['close']>[0]): void {
    this.#inner.close(cb);
  }
}
