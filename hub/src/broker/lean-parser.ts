import type { EventEmitter } from 'node:events';
import { requireFromMqttPacket as fromMqttPacket } from './aedes-deps.js';
import { ByteQueue } from './byte-queue.js';

/**
 * aedes gives every connection a parser from mqtt-packet. That parser keeps its unread bytes in a
 * `bl` BufferListStream (a whole Duplex stream with both stream states, ~1.1 KB per connection),
 * keeps the CONNECT packet, password included, as its `settings` for the life of the connection,
 * and allocates the object for the next packet as soon as one is done, so that object outlives the
 * young generation on every device (a device speaks once a minute) and is garbage for the old one.
 *
 * The lean parser is the same parser with three changes: its unread bytes in a ByteQueue (the buffer
 * methods the parser calls, no stream, no Buffer made per byte read), only `protocolVersion` and
 * `bridgeMode` kept from the CONNECT, and the next packet's object made when its first byte arrives.
 *
 * The steps every device event goes through (fixed header, remaining length, an MQTT 3.1.1
 * PUBLISH) are written out here with mqtt-packet's checks and results, without its `debug()` calls:
 * those allocate an argument array each, eleven per PUBLISH, ~10 % of what the hub allocates per
 * event. Every other packet, and any PUBLISH of MQTT 5, is decoded by mqtt-packet's own code.
 * Tests compare both parsers on valid and broken byte streams in every chunking.
 */

interface StockPacket {
  cmd: string | null;
  length: number;
  protocolVersion?: number;
  bridgeMode?: boolean;
  retain?: boolean;
  qos?: number;
  dup?: boolean;
  topic?: string | null;
  messageId?: number;
  payload?: Buffer;
}

interface BufferListLike {
  length: number;
  append(buf: Buffer): unknown;
  consume(bytes: number): unknown;
}

/** The fields and steps of mqtt-packet 9's Parser that this file relies on. */
interface StockParser extends EventEmitter {
  packet: StockPacket;
  error: Error | null;
  settings: { protocolVersion?: number | undefined; bridgeMode?: boolean | undefined };
  _list: BufferListLike;
  _states: string[];
  _stateCounter: number;
  _pos: number;
  parser(opt?: object): StockParser;
  _resetState(): void;
  _parseHeader(): boolean;
  _parseLength(): boolean;
  _parsePayload(): boolean;
  _parseConnect(): unknown;
  _newPacket(): boolean;
  parse(buf: Buffer): number;
  _emitError(err: Error): void;
}

/** The client fields of aedes 1.x this swaps the parser in. */
interface AedesClientParts {
  _parser: StockParser & { client?: unknown; _queue?: unknown[] | null | undefined };
}

const STATES = '_parseHeader,_parseLength,_parsePayload,_newPacket';

const Parser = fromMqttPacket('./parser.js') as new () => StockParser;
const Packet = fromMqttPacket('./packet.js') as new () => StockPacket;
const constants = fromMqttPacket('./constants.js') as {
  types: Record<number, string>;
  requiredHeaderFlags: Record<number, number | undefined>;
  requiredHeaderFlagsErrors: Record<number, string>;
};

/** Stands for "no packet begun yet": read-only, replaced by a fresh packet when a header byte arrives. */
const IDLE: StockPacket = Object.freeze(new Packet());

class LeanParser extends Parser {
  override _resetState(): void {
    this.packet = IDLE;
    this.error = null;
    this._list = new ByteQueue();
    this._stateCounter = 0;
  }

  override parse(buf: Buffer): number {
    if (this.error) this._resetState();
    this._list.append(buf);
    while ((this.packet.length !== -1 || this._list.length > 0) && this.#step() && !this.error) {
      this._stateCounter = this._stateCounter === 3 ? 0 : this._stateCounter + 1;
    }
    return this._list.length;
  }

  #step(): boolean {
    switch (this._stateCounter) {
      case 0:
        return this._parseHeader();
      case 1:
        return this._parseLength();
      case 2:
        return this._parsePayload();
      default:
        return this._newPacket();
    }
  }

  override _parseHeader(): boolean {
    if (this.packet === IDLE) this.packet = new Packet();
    const list = this._list as ByteQueue;
    const packet = this.packet;
    const zero = list.readUInt8(0);
    const cmdIndex = zero >> 4;
    packet.cmd = constants.types[cmdIndex] ?? null;
    const required = constants.requiredHeaderFlags[cmdIndex];
    if (required != null && (zero & 0xf) !== required) {
      this._emitError(new Error(constants.requiredHeaderFlagsErrors[cmdIndex]));
      return false;
    }
    packet.retain = (zero & 0x01) !== 0;
    packet.qos = (zero >> 1) & 0x03;
    if (packet.qos > 2) {
      this._emitError(new Error('Packet must not have both QoS bits set to 1'));
      return false;
    }
    packet.dup = (zero & 0x08) !== 0;
    list.consume(1);
    return true;
  }

  /** The remaining length: mqtt-packet's variable byte integer, read from `_pos` as it reads it. */
  override _parseLength(): boolean {
    const list = this._list as ByteQueue;
    const padding = this._pos || 0;
    let bytes = 0;
    let mul = 1;
    let value = 0;
    let done = false;
    while (bytes < 4 && padding + bytes < list.length) {
      const current = list.readUInt8(padding + bytes++);
      value += mul * (current & 0x7f);
      mul *= 0x80;
      if ((current & 0x80) === 0) {
        done = true;
        break;
      }
      if (list.length <= bytes) break;
    }
    if (!done && bytes === 4 && list.length >= bytes)
      this._emitError(new Error('Invalid variable byte integer'));
    if (padding) this._pos += bytes;
    if (!done) return false;
    this.packet.length = value;
    list.consume(bytes);
    return true;
  }

  override _parsePayload(): boolean {
    const packet = this.packet;
    if (packet.cmd !== 'publish' || this.settings.protocolVersion === 5) return super._parsePayload();
    const list = this._list as ByteQueue;
    if (packet.length !== 0 && list.length < packet.length) return false;
    this._pos = 0;
    this.#parsePublish(packet, list);
    return true;
  }

  /** An MQTT 3.1.1 PUBLISH, with mqtt-packet's results (a QoS 1 PUBLISH cut before its id gets id -1, as there). */
  #parsePublish(packet: StockPacket, list: ByteQueue): void {
    if (list.length < 2) {
      packet.topic = null;
      this._emitError(new Error('Cannot parse topic'));
      return;
    }
    const end = 2 + list.readUInt16BE(0);
    this._pos = 2;
    if (end > list.length || end > packet.length) {
      packet.topic = null;
      this._emitError(new Error('Cannot parse topic'));
      return;
    }
    packet.topic = list.toString('utf8', 2, end);
    this._pos = end;
    if ((packet.qos ?? 0) > 0) {
      if (list.length - this._pos < 2) packet.messageId = -1;
      else {
        packet.messageId = list.readUInt16BE(this._pos);
        this._pos += 2;
      }
    }
    packet.payload = list.slice(this._pos, packet.length);
  }

  override _parseConnect(): unknown {
    const connect = super._parseConnect();
    // The stock parser keeps the whole CONNECT (password included) as its settings; later packets
    // only ever read these two fields of it.
    if (this.settings === this.packet)
      this.settings = { protocolVersion: this.packet.protocolVersion, bridgeMode: this.packet.bridgeMode };
    return connect;
  }

  override _newPacket(): boolean {
    const done = this.packet;
    this._list.consume(done.length);
    this.packet = IDLE;
    this._pos = 0;
    this.emit('packet', done);
    return true;
  }
}

/** A lean parser on its own (for tests; the broker uses `useLeanParser`). */
export function leanParser(): StockParser {
  return new LeanParser().parser();
}

/** Whether the installed mqtt-packet still has the shape the lean parser was written against. */
export const leanParserFits: boolean = (() => {
  try {
    const probe = new Parser().parser();
    return (
      probe._states.join(',') === STATES &&
      typeof (probe as unknown as { _parseVarByteNum?: unknown })._parseVarByteNum === 'function' &&
      typeof probe._emitError === 'function' &&
      new Packet().length === -1 &&
      constants.types[3] === 'publish' &&
      constants.requiredHeaderFlags[6] === 2 &&
      typeof constants.requiredHeaderFlagsErrors[6] === 'string'
    );
  } catch {
    return false;
  }
})();

/**
 * Give an aedes client the lean parser, before it has read a byte (call right after
 * `aedes.handle()`). The stock parser's listeners and pre-CONNECT queue move over as they are.
 */
export function useLeanParser(client: unknown): void {
  if (!leanParserFits) return;
  const c = client as AedesClientParts;
  const stock = c._parser;
  const lean = leanParser() as AedesClientParts['_parser'];
  lean.client = stock.client;
  lean._queue = stock._queue;
  for (const l of stock.listeners('packet')) lean.on('packet', l as (...a: unknown[]) => void);
  for (const l of stock.listeners('error')) lean.on('error', l as (...a: unknown[]) => void);
  stock.removeAllListeners();
  c._parser = lean;
}
