import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requireFromMqttPacket } from '../../hub/src/broker/aedes-fit/aedes-deps.js';
import { ByteQueue } from '../../hub/src/broker/byte-queue.js';

// The BufferList the stock parser uses, from mqtt-packet's own dependency.
const BufferList = createRequire(requireFromMqttPacket.resolve('./parser.js'))(
  'bl/BufferList.js',
) as new () => {
  length: number;
  append(b: Buffer): unknown;
  consume(n: number): unknown;
  readUInt8(o: number): number;
  readUInt16BE(o: number): number;
  readUInt32BE(o: number): number;
  slice(s: number, e: number): Buffer;
  toString(enc: string, s: number, e: number): string;
};

type Op =
  | { op: 'append'; bytes: number[] }
  | { op: 'consume'; n: number }
  | { op: 'read'; width: 1 | 2 | 4; at: number }
  | { op: 'slice'; start: number; end: number }
  | { op: 'string'; start: number; end: number };

const ops = fc.array(
  fc.oneof(
    fc.record({
      op: fc.constant('append' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 9 }),
    }),
    fc.record({ op: fc.constant('consume' as const), n: fc.integer({ min: -1, max: 12 }) }),
    fc.record({
      op: fc.constant('read' as const),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const),
      at: fc.nat(12),
    }),
    fc.record({
      op: fc.constant('slice' as const),
      start: fc.integer({ min: -3, max: 14 }),
      end: fc.integer({ min: -3, max: 14 }),
    }),
    fc.record({ op: fc.constant('string' as const), start: fc.nat(14), end: fc.nat(14) }),
  ),
  { maxLength: 40 },
);

function run(list: InstanceType<typeof BufferList> | ByteQueue, script: Op[]): unknown[] {
  const seen: unknown[] = [];
  for (const o of script) {
    if (o.op === 'append') list.append(Buffer.from(o.bytes));
    else if (o.op === 'consume') list.consume(o.n);
    else if (o.op === 'read') {
      // The parser checks the length before it reads; so does this script.
      if (o.at + o.width > list.length) continue;
      const m = o.width === 1 ? 'readUInt8' : o.width === 2 ? 'readUInt16BE' : 'readUInt32BE';
      seen.push(list[m](o.at));
    } else {
      // The parser slices only forwards from a non-negative start (bl does odd things otherwise).
      const start = Math.max(0, Math.min(o.start, o.end));
      const end = Math.max(o.start, o.end);
      if (o.op === 'slice') seen.push([...list.slice(start, end)]);
      else seen.push((list as ByteQueue).toString('latin1', start, end));
    }
    seen.push(list.length);
  }
  return seen;
}

describe('ByteQueue (the lean parser’s unread bytes)', () => {
  it('answers every operation the parser makes exactly as bl’s BufferList does', () => {
    fc.assert(
      fc.property(ops, (script) => {
        expect(run(new ByteQueue(), script)).toEqual(run(new BufferList(), script));
      }),
      { numRuns: 500 },
    );
  });

  it('reads across chunk boundaries and refuses to read past the end', () => {
    const q = new ByteQueue()
      .append(Buffer.from([1, 2]))
      .append(Buffer.from([3]))
      .append(Buffer.from([4, 5]));
    expect(q.readUInt32BE(1)).toBe(0x02030405);
    expect(q.readUInt16BE(0)).toBe(0x0102);
    q.consume(2);
    expect([...q.slice(0, 3)]).toEqual([3, 4, 5]);
    expect(() => q.readUInt8(3)).toThrow(RangeError);
  });
});
