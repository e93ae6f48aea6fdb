import type { EventEmitter } from 'node:events';
import { ByteQueue } from '../byte-queue.js';
import { requireFromMqttPacket as fromMqttPacket } from './aedes-deps.js';

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
 * Everything that decodes bytes is mqtt-packet's own code.
 */

interface StockPacket {
  cmd: string | null;
  length: number;
  protocolVersion?: number;
  bridgeMode?: boolean;
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
}

/** The client fields of aedes 1.x this swaps the parser in. */
interface AedesClientParts {
  _parser: StockParser & { client?: unknown; _queue?: unknown[] | null | undefined };
}

const STATES = '_parseHeader,_parseLength,_parsePayload,_newPacket';

const Parser = fromMqttPacket('./parser.js') as new () => StockParser;
const Packet = fromMqttPacket('./packet.js') as new () => StockPacket;

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
    return super._parseHeader();
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
      new Packet().length === -1
    );
  } catch {
    return false;
  }
})();

/**
 * Give an aedes client the lean parser, before it has read a byte (call right after
 * `aedes.handle()`; the hub has checked `leanParserFits` at start, versions.ts). The stock parser's listeners and pre-CONNECT queue move over as they are.
 */
export function useLeanParser(client: unknown): void {
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
