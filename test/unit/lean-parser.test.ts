import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { leanParser, leanParserFits } from '../../hub/src/broker/lean-parser.js';
import { rawPacket } from '../helpers/mqtt-bytes.js';

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
