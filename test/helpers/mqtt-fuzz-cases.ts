import { connect as netConnect } from 'node:net';
import fc from 'fast-check';
import { generate, type Packet } from 'mqtt-packet';
import { mqttString, rawPacket } from './mqtt-bytes.js';

/**
 * MQTT fuzzing material shared by test/integration/mqtt-fuzz.test.ts and bench/fuzz-mqtt.ts:
 * a table of malformed packets, valid packet sequences to mutate (mqtt-packet's generate), the
 * fast-check mutation arbitrary, and a raw-socket runner. Targets 127.0.0.1 only.
 */

export interface Creds {
  clientId: string;
  username: string;
  password: string;
}

const str = mqttString;

/** A packet from its first byte and body (the remaining length is computed). */
export const raw = rawPacket;

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** A valid MQTT 3.1.1 CONNECT for `c`. */
export function connectOf(
  c: Creds,
  overrides: Partial<{ name: string; level: number; flags: number; keepalive: number }> = {},
): Buffer {
  const flags = overrides.flags ?? 0x80 | 0x40 | 0x02;
  return raw(
    0x10,
    str(overrides.name ?? 'MQTT'),
    Buffer.from([overrides.level ?? 4, flags]),
    u16(overrides.keepalive ?? 30),
    str(c.clientId),
    str(c.username),
    str(c.password),
  );
}

/** A CONNECT with a will on `willTopic`; `willQos` may be the forbidden 3. */
function connectWithWill(
  c: Creds,
  willTopic: Buffer | string,
  willQos: number,
  clientId: Buffer | string = c.clientId,
): Buffer {
  const flags = 0x80 | 0x40 | 0x04 | (willQos << 3) | 0x02;
  return raw(
    0x10,
    str('MQTT'),
    Buffer.from([4, flags]),
    u16(30),
    str(clientId),
    str(willTopic),
    str('{"state":"offline"}'),
    str(c.username),
    str(c.password),
  );
}

export interface MalformedCase {
  name: string;
  bytes: Buffer;
  /** The reason the hub must log for closing the connection. */
  reason: RegExp;
}

/** The malformed-packet table: each must make the hub close the connection, and log why. */
export function malformedCases(c: Creds, eventsTopic: string): MalformedCase[] {
  const ok = connectOf(c);
  const publish = (
    first: number,
    topic: Buffer | string,
    mid: number | null,
    payload = '{"type":"heartbeat"}',
  ) => raw(first, str(topic), ...(mid === null ? [] : [u16(mid)]), Buffer.from(payload));
  const surrogate = Buffer.concat([
    Buffer.from('carehub/v1/devices/'),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from('/events'),
  ]);
  const nul = Buffer.concat([Buffer.from('carehub/v1/devices/x'), Buffer.from([0]), Buffer.from('/events')]);
  const overlong = Buffer.concat([Buffer.from('a/'), Buffer.from([0xc0, 0xaf])]);
  return [
    { name: 'wrong protocol name', bytes: connectOf(c, { name: 'MQTX' }), reason: /bad_protocol_name/ },
    {
      name: 'wrong protocol name with level 9',
      bytes: connectOf(c, { name: 'HTTP', level: 9 }),
      reason: /Invalid protocolId/,
    },
    {
      name: 'protocol name MQIsdp with level 4',
      bytes: connectOf(c, { name: 'MQIsdp' }),
      reason: /bad_protocol_name/,
    },
    {
      name: 'protocol name MQTT with level 3',
      bytes: connectOf(c, { level: 3 }),
      reason: /bad_protocol_name/,
    },
    {
      name: 'MQTT 5 (refused: CONNACK 1)',
      bytes: generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clean: true,
        keepalive: 30,
        clientId: c.clientId,
        username: c.username,
        password: Buffer.from(c.password),
      }),
      reason: /unacceptable protocol version/,
    },
    { name: 'protocol level 6', bytes: connectOf(c, { level: 6 }), reason: /Invalid protocol version/ },
    {
      name: 'protocol level 0',
      bytes: connectOf(c, { level: 0 }),
      reason: /Invalid protocol version|unacceptable protocol version/,
    },
    {
      name: 'CONNECT reserved flag bit 0 set',
      bytes: connectOf(c, { flags: 0xc3 }),
      reason: /Connect flag bit 0 must be 0/,
    },
    {
      name: 'CONNECT with reserved header flags',
      bytes: Buffer.concat([Buffer.from([0x11]), connectOf(c).subarray(1)]),
      reason: /Invalid header flag bits/,
    },
    {
      name: 'will QoS without will flag',
      bytes: connectOf(c, { flags: 0xc2 | 0x08 }),
      reason: /Will QoS must be set to zero/,
    },
    {
      name: 'will retain without will flag',
      bytes: connectOf(c, { flags: 0xc2 | 0x20 }),
      reason: /Will Retain Flag must be set to zero/,
    },
    {
      name: 'will QoS 3',
      bytes: connectWithWill(c, 'carehub/v1/devices/x/status', 3),
      reason: /malformed_packet/,
    },
    { name: 'will topic with #', bytes: connectWithWill(c, 'carehub/#', 1), reason: /malformed_packet/ },
    {
      name: 'will topic with a lone surrogate',
      bytes: connectWithWill(c, surrogate, 1),
      reason: /topic_not_utf8/,
    },
    {
      name: 'client id with a lone surrogate',
      bytes: connectWithWill(c, 'a/b', 1, Buffer.from([0x61, 0xed, 0xb0, 0x80])),
      reason: /malformed_packet/,
    },
    {
      name: 'client id with U+0000',
      bytes: connectWithWill(c, 'a/b', 1, Buffer.from([0x61, 0x00, 0x62])),
      reason: /malformed_packet/,
    },
    { name: 'CONNECT twice', bytes: Buffer.concat([ok, ok]), reason: /second_connect/ },
    {
      name: 'PUBLISH first (no CONNECT)',
      bytes: publish(0x30, eventsTopic, null),
      reason: /first_packet_not_connect/,
    },
    {
      name: 'non-CONNECT first packet claiming 268 MB',
      bytes: Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]),
      reason: /first_packet_not_connect/,
    },
    {
      name: 'CONNECT claiming 268 MB',
      bytes: Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]),
      reason: /connect_too_large/,
    },
    {
      name: 'a 5-byte remaining length (first packet)',
      bytes: Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]),
      reason: /malformed_length/,
    },
    {
      name: 'a 5-byte remaining length after CONNECT',
      bytes: Buffer.concat([ok, Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])]),
      reason: /malformed_length/,
    },
    {
      name: 'PUBLISH claiming 268 MB after CONNECT',
      bytes: Buffer.concat([ok, Buffer.from([0x32, 0xff, 0xff, 0xff, 0x7f])]),
      reason: /packet_too_large/,
    },
    {
      name: 'PUBLISH QoS 3',
      bytes: Buffer.concat([ok, publish(0x36, eventsTopic, 7)]),
      reason: /malformed_packet/,
    },
    {
      name: 'PUBLISH QoS 1 with message id 0',
      bytes: Buffer.concat([ok, publish(0x32, eventsTopic, 0)]),
      reason: /zero_message_id/,
    },
    {
      name: 'PUBLISH QoS 2 with message id 0',
      bytes: Buffer.concat([ok, publish(0x34, eventsTopic, 0)]),
      reason: /zero_message_id/,
    },
    {
      name: 'SUBSCRIBE with message id 0',
      bytes: Buffer.concat([ok, raw(0x82, u16(0), str('a/b'), Buffer.from([1]))]),
      reason: /zero_message_id/,
    },
    {
      name: 'UNSUBSCRIBE with message id 0',
      bytes: Buffer.concat([ok, raw(0xa2, u16(0), str('a/b'))]),
      reason: /zero_message_id/,
    },
    {
      name: 'PUBACK with message id 0',
      bytes: Buffer.concat([ok, raw(0x40, u16(0))]),
      reason: /zero_message_id/,
    },
    {
      name: 'PUBLISH topic with #',
      bytes: Buffer.concat([ok, publish(0x30, 'carehub/v1/devices/#', null)]),
      reason: /# is not allowed in PUBLISH/,
    },
    {
      name: 'PUBLISH topic with +',
      bytes: Buffer.concat([ok, publish(0x32, 'carehub/v1/devices/+/events', 9)]),
      reason: /\+ is not allowed in PUBLISH/,
    },
    {
      name: 'PUBLISH topic with U+0000',
      bytes: Buffer.concat([ok, publish(0x32, nul, 3)]),
      reason: /topic_has_nul/,
    },
    {
      name: 'PUBLISH topic with a lone surrogate',
      bytes: Buffer.concat([ok, publish(0x32, surrogate, 4)]),
      reason: /topic_not_utf8/,
    },
    {
      name: 'PUBLISH topic with an overlong UTF-8 form',
      bytes: Buffer.concat([ok, publish(0x30, overlong, null)]),
      reason: /topic_not_utf8/,
    },
    {
      name: 'PUBLISH with an empty topic',
      bytes: Buffer.concat([ok, publish(0x30, '', null)]),
      reason: /topic_empty/,
    },
    {
      name: 'PUBLISH topic length past the packet end',
      bytes: Buffer.concat([ok, raw(0x30, u16(500), Buffer.from('ab'))]),
      reason: /malformed_packet/,
    },
    {
      name: 'SUBSCRIBE filter with U+0000',
      bytes: Buffer.concat([ok, raw(0x82, u16(5), str(nul), Buffer.from([1]))]),
      reason: /topic_has_nul/,
    },
    {
      name: 'SUBSCRIBE filter with a lone surrogate',
      bytes: Buffer.concat([ok, raw(0x82, u16(5), str(surrogate), Buffer.from([1]))]),
      reason: /topic_not_utf8/,
    },
    {
      name: 'SUBSCRIBE with no filter',
      bytes: Buffer.concat([ok, raw(0x82, u16(5))]),
      reason: /malformed_packet/,
    },
    {
      name: 'SUBSCRIBE asking QoS 3',
      bytes: Buffer.concat([ok, raw(0x82, u16(5), str('a/b'), Buffer.from([3]))]),
      reason: /Invalid subscribe QoS/,
    },
    {
      name: 'SUBSCRIBE with reserved header flags 0000',
      bytes: Buffer.concat([ok, raw(0x80, u16(5), str('a/b'), Buffer.from([1]))]),
      reason: /Invalid header flag bits/,
    },
    {
      name: 'PUBREL with reserved header flags 0000',
      bytes: Buffer.concat([ok, raw(0x60, u16(5))]),
      reason: /Invalid header flag bits/,
    },
    {
      name: 'PINGREQ with reserved header flags',
      bytes: Buffer.concat([ok, Buffer.from([0xc1, 0x00])]),
      reason: /Invalid header flag bits/,
    },
    {
      name: 'PINGREQ with a body',
      bytes: Buffer.concat([ok, Buffer.from([0xc0, 0x01, 0x00])]),
      reason: /bad_fixed_length/,
    },
    {
      name: 'PUBACK of 3 bytes',
      bytes: Buffer.concat([ok, raw(0x40, Buffer.from([0, 1, 0]))]),
      reason: /bad_fixed_length/,
    },
    {
      name: 'CONNACK from a client',
      bytes: Buffer.concat([ok, Buffer.from([0x20, 0x02, 0x00, 0x00])]),
      reason: /unexpected_packet_type/,
    },
    {
      name: 'SUBACK from a client',
      bytes: Buffer.concat([ok, raw(0x90, u16(5), Buffer.from([1]))]),
      reason: /unexpected_packet_type/,
    },
    {
      name: 'PINGRESP from a client',
      bytes: Buffer.concat([ok, Buffer.from([0xd0, 0x00])]),
      reason: /unexpected_packet_type/,
    },
    {
      name: 'reserved packet type 0',
      bytes: Buffer.concat([ok, Buffer.from([0x00, 0x00])]),
      reason: /unexpected_packet_type/,
    },
    {
      name: 'reserved packet type 15 (AUTH, MQTT 5 only)',
      bytes: Buffer.concat([ok, Buffer.from([0xf0, 0x00])]),
      reason: /unexpected_packet_type/,
    },
  ];
}

/** Valid packet sequences (a session's first bytes) to mutate. */
export function seeds(c: Creds, eventsTopic: string, statusTopic: string, commandsTopic: string): Buffer[] {
  const connect: Packet = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 30,
    clientId: c.clientId,
    username: c.username,
    password: Buffer.from(c.password),
  };
  const withWill: Packet = {
    ...connect,
    will: { topic: statusTopic, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
  };
  const v3: Packet = { ...connect, protocolId: 'MQIsdp', protocolVersion: 3 };
  const event = (qos: 0 | 1 | 2, messageId: number, payload: object): Packet => ({
    cmd: 'publish',
    topic: eventsTopic,
    payload: Buffer.from(JSON.stringify(payload)),
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { messageId } : {}),
  });
  const g = (...packets: Packet[]) => Buffer.concat(packets.map((p) => generate(p)));
  return [
    g(connect),
    g(connect, event(1, 1, { type: 'door.opened', id: 'fz-1', battery: 90 })),
    g(connect, { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: commandsTopic, qos: 1 }] }),
    g(
      connect,
      event(0, 0, { type: 'heartbeat', rssi: -70 }),
      { cmd: 'pingreq' },
      { cmd: 'unsubscribe', messageId: 3, unsubscriptions: [commandsTopic] },
      { cmd: 'disconnect' },
    ),
    g(withWill, {
      cmd: 'publish',
      topic: statusTopic,
      payload: Buffer.from('{"state":"online"}'),
      qos: 1,
      retain: true,
      dup: false,
      messageId: 4,
    }),
    g(connect, event(2, 5, { type: 'door.closed', id: 'fz-2' }), { cmd: 'pubrel', messageId: 5 }),
    g(v3, event(1, 6, { type: 'tamper' }), { cmd: 'puback', messageId: 7 }),
  ];
}

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'repeat'; from: number; len: number; at: number };

/** Positions biased to the start (fixed header, protocol name, flags, lengths), where parsers break. */
const position = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.nat({ max: 4096 }));

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(0, 0x7f, 0x80, 0xff), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('repeat' as const),
    from: position,
    len: fc.integer({ min: 1, max: 64 }),
    at: position,
  }),
);

export interface FuzzCase {
  seed: number;
  mutations: Mutation[];
}

export const fuzzCaseArb = (seedCount: number): fc.Arbitrary<FuzzCase> =>
  fc.record({
    seed: fc.nat({ max: seedCount - 1 }),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
  });

export function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % (b.length + (m.kind === 'insert' ? 1 : 0));
    switch (m.kind) {
      case 'flip':
        b[at] = (b[at] as number) ^ (1 << m.bit);
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'truncate':
        b = b.subarray(0, Math.max(1, at));
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
        break;
      case 'repeat': {
        const from = m.from % b.length;
        const piece = b.subarray(from, from + m.len);
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

export interface RawRun {
  /** The client's local port: the hub logs the connection as 127.0.0.1:<port>. */
  localPort: number;
  /** True when the hub closed the connection (before `idleMs` passed). */
  closedByHub: boolean;
  ms: number;
  received: Buffer;
}

/** Connect to 127.0.0.1:`port`, write `bytes`, wait until the hub closes the socket or `idleMs` passes. */
export function runRaw(port: number, bytes: Buffer, idleMs: number): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let localPort = 0;
    let start = 0;
    let settled = false;
    const finish = (closedByHub: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ localPort, closedByHub, ms: Date.now() - start, received: Buffer.concat(received) });
    };
    const timer = setTimeout(() => finish(false), idleMs + 5000);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!localPort) {
        settled = true;
        clearTimeout(timer);
        reject(err);
        return;
      }
      finish(true);
    });
    socket.on('data', (d: Buffer) => received.push(d));
    socket.once('close', () => finish(true));
    socket.once('end', () => finish(true));
    socket.once('connect', () => {
      localPort = socket.localPort ?? 0;
      start = Date.now();
      socket.write(bytes);
      clearTimeout(timer);
      setTimeout(() => finish(false), idleMs).unref();
    });
  });
}

/** Run `cases` through `concurrency` sockets at a time. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}
