import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachStreamGuard, type StreamViolation } from '../../hub/src/broker/stream-guard.js';
import { mqttString, rawPacket, varint } from '../helpers/mqtt-bytes.js';

const LIMITS = { maxConnectBytes: 1024, maxPacketBytes: 4096 };

const packet = (firstByte: number, body: Buffer) => rawPacket(firstByte, body);
const str = mqttString;

/** A real MQTT 3.1.1 CONNECT with username and password. */
function connectPacket(clientId = 'h1-sos', password = 'h1-sos-demo'): Buffer {
  const flags = 0x80 | 0x40 | 0x02; // username, password, clean session
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    str(clientId),
    str(clientId),
    str(password),
  ]);
  return packet(0x10, body);
}

function publishPacket(topic: string, payload: Buffer, mid = 1): Buffer {
  const midBuf = Buffer.alloc(2);
  midBuf.writeUInt16BE(mid);
  return packet(0x32, Buffer.concat([str(topic), midBuf, payload]));
}

function publishOfLength(remainingLength: number): Buffer {
  const topic = 'carehub/v1/devices/h1-sos/events';
  const payloadLength = remainingLength - (2 + Buffer.byteLength(topic)) - 2;
  return publishPacket(topic, Buffer.alloc(payloadLength, 0x61));
}

const SUBSCRIBE = packet(
  0x82,
  Buffer.concat([Buffer.from([0, 2]), str('carehub/v1/devices/h1-sos/commands'), Buffer.from([1])]),
);
const PUBACK = packet(0x40, Buffer.from([0, 7]));
const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);

interface Run {
  violations: StreamViolation[];
  destroyed: boolean;
  /** Bytes the other reader of the stream (the MQTT parser, in the hub) saw. */
  passed: Buffer;
}

/** Feed `bytes` through a PassThrough with the guard attached, cut at `cuts` (offsets). */
async function feed(bytes: Buffer, cuts: number[], limits = LIMITS): Promise<Run> {
  const stream = new PassThrough();
  stream.on('error', () => {});
  const violations: StreamViolation[] = [];
  const seen: Buffer[] = [];
  attachStreamGuard(stream, limits, (v) => violations.push(v));
  stream.on('data', (chunk: Buffer) => seen.push(chunk));
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...points, bytes.length]) {
    if (stream.destroyed) break;
    stream.write(bytes.subarray(start, end));
    start = end;
    // let the chunk flow to the 'data' listeners before the next one
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  return { violations, destroyed: stream.destroyed, passed: Buffer.concat(seen) };
}

const byteByByte = (b: Buffer) => Array.from({ length: b.length }, (_, i) => i);
const cutsArb = (length: number) =>
  fc.array(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 40 });

describe('stream guard: sizes and the first packet', () => {
  const valid = Buffer.concat([
    connectPacket(),
    SUBSCRIBE,
    publishPacket('carehub/v1/devices/h1-sos/events', Buffer.from('{"type":"sos.pressed","id":"a1"}')),
    publishOfLength(200), // two-byte remaining length
    publishOfLength(LIMITS.maxPacketBytes), // exactly at the limit
    PUBACK,
    PINGREQ,
    publishOfLength(127), // largest one-byte length
    publishOfLength(128), // smallest two-byte length
    DISCONNECT,
  ]);

  it('lets valid traffic through untouched when it arrives byte by byte', async () => {
    const run = await feed(valid, byteByByte(valid));
    expect(run.violations).toEqual([]);
    expect(run.destroyed).toBe(false);
    expect(run.passed.equals(valid)).toBe(true);
  });

  it('lets valid traffic through in any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(cutsArb(valid.length), async (cuts) => {
        const run = await feed(valid, cuts);
        expect(run.violations).toEqual([]);
        expect(run.destroyed).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('closes a connection whose first packet is not CONNECT, whatever the chunking', async () => {
    const bytes = Buffer.concat([
      publishPacket('carehub/v1/devices/h1-sos/events', Buffer.from('{}')),
      connectPacket(),
    ]);
    await fc.assert(
      fc.asyncProperty(cutsArb(bytes.length), async (cuts) => {
        const run = await feed(bytes, cuts);
        expect(run.violations).toEqual(['first_packet_not_connect']);
        expect(run.destroyed).toBe(true);
      }),
      { numRuns: 30 },
    );
    for (const first of [0x00, 0x20, 0xc0, 0xe0, 0xff]) {
      const run = await feed(Buffer.from([first, 0x00]), []);
      expect(run.violations).toEqual(['first_packet_not_connect']);
    }
  });

  it('closes on an oversize CONNECT as soon as its header arrives, before the body', async () => {
    const header = Buffer.concat([Buffer.from([0x10]), varint(LIMITS.maxConnectBytes + 1)]);
    const run = await feed(header, byteByByte(header));
    expect(run.violations).toEqual(['connect_too_large']);
    expect(run.destroyed).toBe(true);

    // 200 MB announced: closed on the 5 header bytes
    const huge = Buffer.concat([Buffer.from([0x10]), varint(200 * 1024 * 1024)]);
    expect(huge.length).toBe(5);
    const hugeRun = await feed(huge, byteByByte(huge));
    expect(hugeRun.violations).toEqual(['connect_too_large']);
  });

  it('accepts a CONNECT of exactly the limit', async () => {
    const atLimit = Buffer.concat([
      Buffer.from([0x10]),
      varint(LIMITS.maxConnectBytes),
      Buffer.alloc(LIMITS.maxConnectBytes),
    ]);
    const run = await feed(atLimit, [1, 2, 3, 500]);
    expect(run.violations).toEqual([]);
    expect(run.destroyed).toBe(false);
  });

  it('closes on a remaining length of five bytes (malformed) in any chunking', async () => {
    // every length byte has the continuation bit: the fourth one already makes it malformed
    const bytes = Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00]);
    await fc.assert(
      fc.asyncProperty(cutsArb(bytes.length), async (cuts) => {
        const run = await feed(bytes, cuts, { maxConnectBytes: 1_048_576, maxPacketBytes: 16_777_216 });
        expect(run.violations).toEqual(['malformed_length']);
        expect(run.destroyed).toBe(true);
      }),
      { numRuns: 30 },
    );
    // the same after a valid CONNECT
    const later = Buffer.concat([connectPacket(), Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])]);
    const run = await feed(later, byteByByte(later), {
      maxConnectBytes: 1_048_576,
      maxPacketBytes: 16_777_216,
    });
    expect(run.violations).toEqual(['malformed_length']);
  });

  it('closes on an oversize packet after CONNECT, in any chunking, once its header is seen', async () => {
    const before = Buffer.concat([connectPacket(), SUBSCRIBE, PINGREQ]);
    const oversize = publishOfLength(LIMITS.maxPacketBytes + 1);
    const bytes = Buffer.concat([before, oversize]);
    await fc.assert(
      fc.asyncProperty(cutsArb(bytes.length), async (cuts) => {
        const run = await feed(bytes, cuts);
        expect(run.violations).toEqual(['packet_too_large']);
        expect(run.destroyed).toBe(true);
      }),
      { numRuns: 30 },
    );
    // the guard acts on the header: when the body comes in later chunks, none of it is passed on
    const headerEnd = before.length + 1 + varint(LIMITS.maxPacketBytes + 1).length;
    const run = await feed(bytes, [headerEnd, headerEnd + 100, headerEnd + 200]);
    expect(run.violations).toEqual(['packet_too_large']);
    expect(run.passed.length).toBe(headerEnd);
    // a later packet is held to maxPacketBytes, not to the larger CONNECT limit, and vice versa
    const limits = { maxConnectBytes: 8192, maxPacketBytes: 1024 };
    const bigConnect = Buffer.concat([Buffer.from([0x10]), varint(4000), Buffer.alloc(4000)]);
    expect((await feed(Buffer.concat([bigConnect, publishOfLength(1024)]), [10], limits)).violations).toEqual(
      [],
    );
    expect((await feed(Buffer.concat([bigConnect, publishOfLength(1025)]), [10], limits)).violations).toEqual(
      ['packet_too_large'],
    );
  });

  it('reports a violation once and ignores whatever else arrives', async () => {
    const bytes = Buffer.concat([Buffer.from([0x30, 0x00]), Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])]);
    const run = await feed(bytes, byteByByte(bytes));
    expect(run.violations).toEqual(['first_packet_not_connect']);
  });
});

describe('stream guard: protocol checks', () => {
  it('closes on a PUBLISH with packet identifier 0 after CONNECT, in any chunking, and only once', async () => {
    const bytes = Buffer.concat([
      connectPacket(),
      publishPacket('carehub/v1/devices/h1-sos/events', Buffer.from('{}'), 0),
      publishPacket('carehub/v1/devices/h1-sos/events', Buffer.from('{}'), 0),
    ]);
    await fc.assert(
      fc.asyncProperty(cutsArb(bytes.length), async (cuts) => {
        const run = await feed(bytes, cuts);
        expect(run.violations).toEqual(['zero_message_id']);
        expect(run.destroyed).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('closes on a second CONNECT and on a packet type only a server sends', async () => {
    expect((await feed(Buffer.concat([connectPacket(), connectPacket()]), [])).violations).toEqual([
      'second_connect',
    ]);
    const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);
    expect((await feed(Buffer.concat([connectPacket(), connack]), [])).violations).toEqual([
      'unexpected_packet_type',
    ]);
  });
});
