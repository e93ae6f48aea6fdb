import type { Duplex } from 'node:stream';
import {
  CONNECT,
  checkBody,
  FROM_CLIENT,
  headerProblem,
  type PacketViolation,
  PUBLISH,
  wantedPrefix,
} from './packet-checks.js';

export interface StreamGuardLimits {
  /** Largest CONNECT packet (the first packet) in bytes. */
  maxConnectBytes: number;
  /** Largest packet after CONNECT. */
  maxPacketBytes: number;
}

export type FrameViolation =
  | 'first_packet_not_connect'
  | 'connect_too_large'
  | 'packet_too_large'
  | 'malformed_length';

export type StreamViolation = FrameViolation | PacketViolation;

/**
 * Reads MQTT fixed headers as bytes pass by, once per connection, and destroys the stream at the
 * first violation:
 * - size: a header announcing a packet over the limit closes the connection before its body
 *   arrives (without it the MQTT parser buffers whatever a header announces, up to 256 MB, even
 *   from a client that never sent CONNECT); so does a first packet that is not CONNECT;
 * - protocol: packet types a client never sends, a second CONNECT, and the body checks of
 *   packet-checks.ts on the start of each body.
 * It only observes: the 'data' listener fires inside the broker's read() and never changes the
 * bytes. On a violation the caller must ignore the packets of that read (the parser still sees
 * them): see `Broker#authorizePublish`.
 *
 * One object with plain fields per connection (no closures): it is kept for every device.
 */
class StreamGuard {
  #packets = 0;
  #state: 0 | 1 | 2 = 0; // header, length, body
  #type = 0;
  #qos = 0;
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  /** Body bytes still to pass in this packet. */
  #remaining = 0;
  /** Body bytes wanted for the check (a prefix of the body), and those collected so far. */
  #want = 0;
  #parts: Buffer[] = [];
  #have = 0;
  #stopped = false;
  readonly onData = (chunk: Buffer | string): void => this.#read(chunk);

  constructor(
    private readonly stream: Duplex,
    private readonly limits: StreamGuardLimits,
    private readonly onViolation: (v: StreamViolation) => void,
  ) {}

  #violate(v: StreamViolation): void {
    this.#stop();
    this.onViolation(v);
    this.stream.destroy();
  }

  #stop(): void {
    this.#stopped = true;
    this.#parts = [];
    this.stream.removeListener('data', this.onData);
  }

  #read(chunk: Buffer | string): void {
    if (this.#stopped) return;
    if (this.stream.destroyed) {
      this.#stop(); // closed by someone else during this read
      return;
    }
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let i = 0;
    while (i < buf.length) {
      if (this.#state === 2) {
        i = this.#body(buf, i);
        if (this.#stopped) return;
        continue;
      }
      const byte = buf[i++] as number;
      if (this.#state === 0) {
        const problem = this.#header(byte);
        if (problem) {
          this.#violate(problem);
          return;
        }
        continue;
      }
      // The remaining length: an MQTT variable byte integer, at most 4 bytes.
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes >= 4) {
          this.#violate('malformed_length');
          return;
        }
        continue;
      }
      const problem = this.#lengthDone();
      if (problem) {
        this.#violate(problem);
        return;
      }
    }
  }

  #header(byte: number): StreamViolation | null {
    const type = byte >> 4;
    this.#type = type;
    this.#qos = (byte >> 1) & 3;
    if (this.#packets === 0 && type !== CONNECT) return 'first_packet_not_connect';
    if (!FROM_CLIENT.has(type)) return 'unexpected_packet_type';
    if (type === CONNECT && this.#packets > 0) return 'second_connect';
    // [MQTT-3.3.1-4] QoS 3. (DUP on a QoS 0 publish is tolerated: harmless, and seen in buggy devices.)
    if (type === PUBLISH && this.#qos === 3) return 'malformed_packet';
    this.#state = 1;
    this.#length = 0;
    this.#multiplier = 1;
    this.#lengthBytes = 0;
    return null;
  }

  #lengthDone(): StreamViolation | null {
    const problem = headerProblem(this.#type, this.#length);
    if (problem) return problem;
    const first = this.#packets === 0;
    const limit = first ? this.limits.maxConnectBytes : this.limits.maxPacketBytes;
    if (this.#length > limit) return first ? 'connect_too_large' : 'packet_too_large';
    this.#packets++;
    this.#remaining = this.#length;
    this.#want = wantedPrefix(this.#type, this.#length);
    if (this.#parts.length > 0) this.#parts = [];
    this.#have = 0;
    this.#state = this.#remaining > 0 ? 2 : 0;
    return null;
  }

  /** Pass body bytes from `i`, collecting the prefix the check wants; returns the next index. */
  #body(buf: Buffer, i: number): number {
    let at = i;
    const avail = Math.min(this.#remaining, buf.length - at);
    if (this.#want > 0 && this.#have === 0 && avail >= this.#want) {
      // The usual case: the prefix the check wants is all in this chunk. Check it where it is;
      // when it needs more than the chunk has, collect it below.
      const result = checkBody(this.#type, this.#qos, this.#length, buf, at, at + avail);
      if (typeof result === 'number') this.#want = result;
      else if (result) {
        this.#violate(result);
        return at;
      } else this.#want = 0;
    }
    if (this.#want > this.#have) {
      const take = Math.min(this.#want - this.#have, this.#remaining, buf.length - at);
      this.#parts.push(buf.subarray(at, at + take));
      this.#have += take;
      this.#remaining -= take;
      at += take;
      if (this.#have >= this.#want) {
        const body = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
        const result = checkBody(this.#type, this.#qos, this.#length, body);
        if (typeof result === 'number') {
          this.#parts = [body];
          this.#want = result;
          return at;
        }
        if (result) {
          this.#violate(result);
          return at;
        }
        this.#want = 0;
        this.#parts = [];
      }
    } else {
      const take = Math.min(this.#remaining, buf.length - at);
      this.#remaining -= take;
      at += take;
    }
    if (this.#remaining === 0) this.#state = 0;
    return at;
  }
}

/** Watch `stream` (see StreamGuard); `onViolation` is called once, just before it is destroyed. */
export function attachStreamGuard(
  stream: Duplex,
  limits: StreamGuardLimits,
  onViolation: (v: StreamViolation) => void,
): void {
  const guard = new StreamGuard(stream, limits, onViolation);
  stream.on('data', guard.onData);
}
