/**
 * The unread bytes of one MQTT connection, for the lean parser: the part of `bl`'s BufferList that
 * mqtt-packet's parser uses (append, consume, length, readUInt8/16BE/32BE, slice, toString), without
 * its cost per call. bl reads a byte by slicing a new Buffer for it (and an offset array), and
 * consumes by slicing the first chunk again: some twenty short-lived objects per packet. Here a
 * read is an index into the chunk, and consuming moves an offset.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  /** Bytes of #chunks[0] already consumed. */
  #head = 0;
  /** Unread bytes. */
  length = 0;

  append(buf: Buffer): this {
    if (buf.length > 0) {
      this.#chunks.push(buf);
      this.length += buf.length;
    }
    return this;
  }

  consume(bytes: number): this {
    let n = Math.trunc(bytes);
    if (!(n > 0)) return this;
    n = Math.min(n, this.length);
    this.length -= n;
    while (n > 0) {
      const first = this.#chunks[0] as Buffer;
      const left = first.length - this.#head;
      if (n < left) {
        this.#head += n;
        return this;
      }
      n -= left;
      this.#chunks.shift();
      this.#head = 0;
    }
    return this;
  }

  readUInt8(offset = 0): number {
    return this.#at(offset);
  }

  readUInt16BE(offset = 0): number {
    return this.#at(offset) * 0x100 + this.#at(offset + 1);
  }

  readUInt32BE(offset = 0): number {
    return (
      this.#at(offset) * 0x1000000 +
      this.#at(offset + 1) * 0x10000 +
      this.#at(offset + 2) * 0x100 +
      this.#at(offset + 3)
    );
  }

  /** Bytes [start, end) of the unread ones: a view when they lie in one chunk, else a copy. */
  slice(start = 0, end = this.length): Buffer {
    const from = Math.max(0, start < 0 ? start + this.length : start);
    const to = Math.min(this.length, end < 0 ? end + this.length : end);
    if (from >= to) return Buffer.alloc(0);
    let i = 0;
    let at = from + this.#head;
    while (at >= (this.#chunks[i] as Buffer).length) {
      at -= (this.#chunks[i] as Buffer).length;
      i++;
    }
    const first = this.#chunks[i] as Buffer;
    const want = to - from;
    if (at + want <= first.length) return first.subarray(at, at + want);
    const out = Buffer.allocUnsafe(want);
    let filled = first.copy(out, 0, at);
    while (filled < want) {
      i++;
      filled += (this.#chunks[i] as Buffer).copy(out, filled, 0, want - filled);
    }
    return out;
  }

  toString(encoding: BufferEncoding = 'utf8', start = 0, end = this.length): string {
    return this.slice(start, end).toString(encoding);
  }

  #at(offset: number): number {
    if (offset >= 0 && offset < this.length) {
      let at = offset + this.#head;
      for (const chunk of this.#chunks) {
        if (at < chunk.length) return chunk[at] as number;
        at -= chunk.length;
      }
    }
    throw new RangeError(`offset ${offset} is outside the ${this.length} unread bytes`);
  }
}
