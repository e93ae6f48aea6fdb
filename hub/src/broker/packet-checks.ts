/**
 * What MQTT 3.1.1 says must close the connection but the MQTT parser lets through, checked on the
 * start of a packet's body: a second CONNECT's will and strings, packet identifier 0
 * [MQTT-2.3.1-1], topic names and filters that are not well-formed UTF-8 or contain U+0000
 * [MQTT-1.5.3-1, -2], malformed SUBSCRIBE and UNSUBSCRIBE lists. Used by the stream guard.
 */
export type PacketViolation =
  | 'unexpected_packet_type'
  | 'second_connect'
  | 'zero_message_id'
  | 'bad_fixed_length'
  | 'topic_not_utf8'
  | 'topic_has_nul'
  | 'topic_empty'
  | 'bad_protocol_name'
  | 'malformed_packet';

export const CONNECT = 1;
export const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;

/** Client → server packet types of MQTT 3.1.1 (CONNACK, SUBACK, UNSUBACK, PINGRESP, 0 and 15 never come from a client). */
export const FROM_CLIENT: ReadonlySet<number> = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A violation visible in the type and remaining length alone, or null. */
export function headerProblem(type: number, length: number): PacketViolation | null {
  if ((type >= 4 && type <= 7 && length !== 2) || ((type === 12 || type === 14) && length !== 0))
    return 'bad_fixed_length';
  if ((type === PUBLISH || type === SUBSCRIBE || type === UNSUBSCRIBE) && length < 2)
    return 'malformed_packet';
  return null;
}

/** How much of the body the check needs to start with (it may ask for more: see checkBody). */
export function wantedPrefix(type: number, length: number): number {
  switch (type) {
    case CONNECT:
      return length; // one per connection, capped by maxConnectBytes
    case PUBLISH:
      return Math.min(2, length); // the topic length first
    case SUBSCRIBE:
    case UNSUBSCRIBE:
      return length; // small (every packet is capped by maxPacketBytes)
    case 4:
    case 5:
    case 6:
    case 7:
      return Math.min(2, length);
    default:
      return 0;
  }
}

/**
 * Validate a body prefix, `buf` from `start` to `end`: a violation, null when it is fine, or the
 * number of bytes needed when the prefix is too short to tell. A PUBLISH (nearly every packet) is
 * checked in place, without copying or slicing.
 */
export function checkBody(
  type: number,
  qos: number,
  length: number,
  buf: Buffer,
  start = 0,
  end = buf.length,
): PacketViolation | number | null {
  if (type === PUBLISH) {
    const topicLen = buf.readUInt16BE(start);
    const need = Math.min(length, 2 + topicLen + (qos > 0 ? 2 : 0));
    if (end - start < need) return need;
    if (2 + topicLen + (qos > 0 ? 2 : 0) > length) return 'malformed_packet';
    const bad = topicProblem(buf, start + 2, start + 2 + topicLen);
    if (bad) return bad;
    if (qos > 0 && buf.readUInt16BE(start + 2 + topicLen) === 0) return 'zero_message_id';
    return null;
  }
  const body = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  if (type === CONNECT) return connectProblem(body);
  if (type === SUBSCRIBE || type === UNSUBSCRIBE) {
    if (body.readUInt16BE(0) === 0) return 'zero_message_id';
    let i = 2;
    let filters = 0;
    while (i < length) {
      if (i + 2 > length) return 'malformed_packet';
      const n = body.readUInt16BE(i);
      i += 2;
      if (i + n > length) return 'malformed_packet';
      const bad = topicProblem(body, i, i + n);
      if (bad) return bad;
      i += n + (type === SUBSCRIBE ? 1 : 0);
      filters++;
    }
    // [MQTT-3.8.3-3] [MQTT-3.10.3-2]: at least one filter; a SUBSCRIBE filter without its QoS byte is cut short.
    if (filters === 0 || i > length) return 'malformed_packet';
    return null;
  }
  // PUBACK, PUBREC, PUBREL, PUBCOMP
  return body.readUInt16BE(0) === 0 ? 'zero_message_id' : null;
}

/** A topic name or filter, `buf` from `start` to `end`: well-formed UTF-8 (no encoded surrogates, no overlong forms), no U+0000, not empty. */
function topicProblem(buf: Buffer, start = 0, end = buf.length): PacketViolation | null {
  if (end <= start) return 'topic_empty';
  // ASCII is the common case and always well-formed.
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0) return 'topic_has_nul';
    if (b >= 0x80) ascii = false;
  }
  if (ascii) return null;
  try {
    utf8.decode(buf.subarray(start, end));
  } catch {
    return 'topic_not_utf8';
  }
  return null;
}

/**
 * The parts of a CONNECT the MQTT parser does not check: will QoS 3 [MQTT-3.1.2-14], a will topic
 * with wildcards, U+0000 or broken UTF-8, and a client id or user name that is not well-formed
 * UTF-8 [MQTT-1.5.3-1]. Anything the parser itself rejects (protocol name, level, reserved flag) is
 * left to it; a CONNECT cut short is left to the parser too.
 */
function connectProblem(body: Buffer): PacketViolation | null {
  const strAt = (i: number): [Buffer, number] | null => {
    if (i + 2 > body.length) return null;
    const n = body.readUInt16BE(i);
    if (i + 2 + n > body.length) return null;
    return [body.subarray(i + 2, i + 2 + n), i + 2 + n];
  };
  const name = strAt(0);
  if (!name) return null;
  let i = name[1];
  if (i + 4 > body.length) return null;
  const level = (body[i] as number) & 0x7f;
  if (level !== 3 && level !== 4) return null; // MQTT 5 (properties here) is refused by the broker with CONNACK 1
  // [MQTT-3.1.2-1]: MQTT 3.1 is "MQIsdp", 3.1.1 is "MQTT"; a mix is no client we know.
  if (name[0].toString('latin1') !== (level === 3 ? 'MQIsdp' : 'MQTT')) return 'bad_protocol_name';
  const flags = body[i + 1] as number;
  i += 4; // level, flags, keep alive
  const willFlag = (flags & 0x04) !== 0;
  if (willFlag && (flags & 0x18) === 0x18) return 'malformed_packet';
  const clientId = strAt(i);
  if (!clientId) return null;
  if (clientId[0].length > 0 && utf8Problem(clientId[0])) return 'malformed_packet';
  i = clientId[1];
  if (willFlag) {
    const topic = strAt(i);
    if (!topic) return null;
    const bad = topicProblem(topic[0]);
    if (bad) return bad;
    if (topic[0].includes(0x23) || topic[0].includes(0x2b)) return 'malformed_packet'; // # or + in a will topic
    const payload = strAt(topic[1]);
    if (!payload) return null;
    i = payload[1];
  }
  if (flags & 0x80) {
    const user = strAt(i);
    if (user && utf8Problem(user[0])) return 'malformed_packet';
  }
  return null;
}

function utf8Problem(bytes: Buffer): boolean {
  if (bytes.includes(0)) return true;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) >= 0x80) {
      try {
        utf8.decode(bytes);
        return false;
      } catch {
        return true;
      }
    }
  }
  return false;
}
