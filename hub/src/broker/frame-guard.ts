import type { Duplex } from 'node:stream';

export interface FrameGuardLimits {
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

/**
 * Reads MQTT fixed headers as bytes pass by and destroys the stream as soon as a header announces
 * a packet over the limit, before its body arrives. Without it the MQTT parser buffers whatever a
 * header announces (up to 256 MB), even from a client that never sent CONNECT.
 * It only observes: the 'data' listener fires as the broker reads, and never changes the bytes.
 */
export function attachFrameGuard(
  stream: Duplex,
  limits: FrameGuardLimits,
  onViolation: (v: FrameViolation) => void,
): void {
  let packets = 0;
  let state: 'header' | 'length' | 'body' = 'header';
  let type = 0;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  let stopped = false;

  const violate = (v: FrameViolation) => {
    stopped = true;
    stream.removeListener('data', onData);
    onViolation(v);
    stream.destroy();
  };

  const onData = (chunk: Buffer | string) => {
    if (stopped) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let i = 0;
    while (i < buf.length) {
      if (state === 'body') {
        const take = Math.min(remaining, buf.length - i);
        remaining -= take;
        i += take;
        if (remaining === 0) state = 'header';
        continue;
      }
      const byte = buf[i++] as number;
      if (state === 'header') {
        type = byte >> 4;
        if (packets === 0 && type !== 1) return violate('first_packet_not_connect');
        state = 'length';
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
        continue;
      }
      // state === 'length': MQTT variable byte integer, at most 4 bytes.
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      lengthBytes++;
      if (byte & 0x80) {
        if (lengthBytes >= 4) return violate('malformed_length');
        continue;
      }
      const limit = packets === 0 ? limits.maxConnectBytes : limits.maxPacketBytes;
      if (length > limit) return violate(packets === 0 ? 'connect_too_large' : 'packet_too_large');
      packets++;
      remaining = length;
      state = remaining > 0 ? 'body' : 'header';
    }
  };
  stream.on('data', onData);
}
