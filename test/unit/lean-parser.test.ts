import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { leanParser, leanParserFits } from '../../hub/src/broker/aedes-fit/lean-parser.js';
import { mqttString, rawPacket, varint } from '../helpers/mqtt-bytes.js';

type Parsed = { packets: unknown[]; errors: string[]; parser: unknown };

/** Feed `bytes` to a parser in chunks of `chunk` bytes; collect what it emits. */
function run(make: () => ReturnType<typeof leanParser>, bytes: Buffer, chunk: number): Parsed {
  const parser = make();
  const packets: unknown[] = [];
  const errors: string[] = [];
  parser.on('packet', (p: unknown) => packets.push(structuredClone({ ...(p as object) })));
  parser.on('error', (e: Error) => errors.push(e.message));
  for (let i = 0; i < bytes.length; i += chunk) parser.parse(bytes.subarray(i, i + chunk));
  return { packets, errors, parser };
}

const stock = () => mqttPacket.parser() as unknown as ReturnType<typeof leanParser>;

const v4Session = Buffer.concat([
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: 'h1-sos',
    clean: true,
    keepalive: 60,
    username: 'h1-sos',
    password: Buffer.from('s3cret-device-key'),
    will: {
      topic: 'carehub/v1/devices/h1-sos/status',
      payload: Buffer.from('offline'),
      qos: 1,
      retain: true,
    },
  }),
  mqttPacket.generate({
    cmd: 'subscribe',
    messageId: 7,
    subscriptions: [{ topic: 'carehub/v1/devices/h1-sos/commands', qos: 1 }],
  }),
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'carehub/v1/devices/h1-sos/events',
    payload: Buffer.from('{"type":"sos.pressed","id":"e-1"}'),
    qos: 1,
    messageId: 8,
    retain: false,
    dup: false,
  }),
  mqttPacket.generate({ cmd: 'puback', messageId: 3 }),
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'carehub/v1/devices/h1-sos/status',
    payload: Buffer.alloc(300, 0x61), // a two-byte remaining length
    qos: 0,
    retain: true,
    dup: false,
  }),
  mqttPacket.generate({
    cmd: 'unsubscribe',
    messageId: 9,
    unsubscriptions: ['carehub/v1/devices/h1-sos/commands'],
  }),
  mqttPacket.generate({ cmd: 'pingreq' }),
  mqttPacket.generate({ cmd: 'disconnect' }),
]);

const v5Session = Buffer.concat([
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clientId: 'v5-client',
    clean: true,
    keepalive: 30,
    properties: { sessionExpiryInterval: 10 },
  }),
  mqttPacket.generate(
    {
      cmd: 'publish',
      topic: 'a/b',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 2,
      retain: false,
      dup: false,
      properties: { userProperties: { k: 'v' }, contentType: 'text/plain' },
    },
    { protocolVersion: 5 },
  ),
]);

describe('lean MQTT parser (aedes connections)', () => {
  it('fits the installed mqtt-packet', () => {
    expect(leanParserFits).toBe(true);
  });

  it.each([
    ['MQTT 3.1.1', v4Session],
    ['MQTT 5 (properties read after CONNECT)', v5Session],
  ])('emits exactly what mqtt-packet emits for a %s session, in any chunking', (_name, bytes) => {
    const expected = run(stock, bytes, bytes.length);
    expect(expected.errors).toEqual([]);
    expect(expected.packets.length).toBeGreaterThan(1);
    for (const chunk of [1, 2, 3, 7, 64, bytes.length]) {
      const got = run(leanParser, bytes, chunk);
      expect(got.errors).toEqual([]);
      expect(got.packets).toEqual(expected.packets);
    }
  });

  it('reports the same errors as mqtt-packet for broken packets, and parses again after one', () => {
    const cases = [
      rawPacket(0x10, Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 0, 0, 60, 0, 0])), // protocol level 9
      rawPacket(0x36, Buffer.from([0, 1, 0x61, 0, 1])), // QoS 3
      rawPacket(0x63, Buffer.from([0, 1])), // PUBREL with wrong flags
    ];
    for (const bad of cases) {
      const bytes = Buffer.concat([bad, mqttPacket.generate({ cmd: 'pingreq' })]);
      const expected = run(stock, bytes, bytes.length);
      expect(expected.errors.length).toBeGreaterThan(0);
      const got = run(leanParser, bytes, bytes.length);
      expect(got.errors).toEqual(expected.errors);
      expect(got.packets).toEqual(expected.packets);
    }
  });

  it('decodes PUBLISH headers, lengths, topics and ids as mqtt-packet does, broken ones included', () => {
    const topic = mqttString('carehub/v1/devices/h1-sos/events');
    const cases = [
      rawPacket(0x32, topic, Buffer.from([0, 5]), Buffer.from('{"a":1}')), // QoS 1
      rawPacket(0x3d, topic, Buffer.from([0xff, 0xfe]), Buffer.alloc(0)), // QoS 2, dup, retain, empty payload
      rawPacket(0x30, mqttString('t/ü/中'), Buffer.alloc(20_000, 0x62)), // a three-byte remaining length
      rawPacket(0x30, Buffer.alloc(0)), // no topic at all
      rawPacket(0x30, Buffer.from([0])), // half a topic length
      rawPacket(0x32, Buffer.from([0, 40, 0x61, 0x62])), // a topic longer than the packet
      rawPacket(0x32, mqttString('a/b')), // QoS 1 without its message id
      rawPacket(0x32, mqttString('a/b'), Buffer.from([7])), // half a message id
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]), // five length bytes
      Buffer.concat([Buffer.from([0x30]), varint(268_435_455)]), // the largest length, no body
      Buffer.from([0x30, 0x00]), // remaining length 0
    ];
    let broken = 0;
    for (const bad of cases) {
      const bytes = Buffer.concat([bad, mqttPacket.generate({ cmd: 'pingreq' })]);
      for (const chunk of [1, 3, bytes.length]) {
        const expected = run(stock, bytes, chunk);
        const got = run(leanParser, bytes, chunk);
        expect(got.errors).toEqual(expected.errors);
        expect(got.packets).toEqual(expected.packets);
        if (expected.errors.length > 0) broken++;
      }
    }
    expect(broken).toBeGreaterThanOrEqual(5 * 3);
  });

  it('agrees with mqtt-packet on random streams of valid, cut and corrupted packets (property)', () => {
    const publish = fc
      .record({
        qos: fc.constantFrom(0, 1, 2),
        retain: fc.boolean(),
        dup: fc.boolean(),
        topic: fc.string({ minLength: 1, maxLength: 40 }),
        payload: fc.uint8Array({ maxLength: 300 }),
        messageId: fc.integer({ min: 1, max: 65535 }),
      })
      .map((p) =>
        mqttPacket.generate({
          cmd: 'publish',
          ...p,
          dup: p.qos > 0 && p.dup,
          payload: Buffer.from(p.payload),
        }),
      );
    const other = fc.constantFrom(
      mqttPacket.generate({ cmd: 'pingreq' }),
      mqttPacket.generate({ cmd: 'puback', messageId: 9 }),
      mqttPacket.generate({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#', qos: 1 }] }),
    );
    const packet = fc.oneof(
      { weight: 6, arbitrary: publish },
      { weight: 2, arbitrary: other },
      { weight: 1, arbitrary: fc.tuple(publish, fc.nat()).map(([b, n]) => b.subarray(0, n % b.length)) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(publish, fc.nat(), fc.integer({ min: 0, max: 255 }))
          .map(([b, at, v]) => Buffer.from(b).fill(v, at % b.length, (at % b.length) + 1)),
      },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((a) => Buffer.from(a)) },
    );
    fc.assert(
      fc.property(
        fc.array(packet, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (list, chunk) => {
          const bytes = Buffer.concat(list);
          const expected = run(stock, bytes, chunk);
          const got = run(leanParser, bytes, chunk);
          expect(got.errors).toEqual(expected.errors);
          expect(got.packets).toEqual(expected.packets);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps neither a stream nor the CONNECT (password) between packets', () => {
    const { parser } = run(leanParser, v4Session, v4Session.length) as Parsed & {
      parser: { settings: object; _list: object; packet: { cmd: unknown } };
    };
    const p = parser as { settings: object; _list: object; packet: { cmd: unknown } };
    expect(p.settings).toEqual({ protocolVersion: 4, bridgeMode: undefined });
    expect(JSON.stringify(p.settings)).not.toContain('s3cret');
    expect(typeof (p._list as { pipe?: unknown }).pipe).toBe('undefined');
    // no packet object held while waiting for the next one
    expect(p.packet.cmd).toBeNull();
    expect(Object.isFrozen(p.packet)).toBe(true);
  });
});
