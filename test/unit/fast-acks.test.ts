import { Writable } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { stockWriteToStream, useFastAcks } from '../../hub/src/broker/aedes-fit/fast-acks.js';

/** Everything a writer puts on a stream, and how many write calls it took. */
async function written(write: (stream: Writable) => void): Promise<{ bytes: Buffer; calls: number }> {
  const chunks: Buffer[] = [];
  let calls = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls++;
      chunks.push(chunk);
      cb();
    },
    writev(entries, cb) {
      calls++;
      for (const e of entries) chunks.push(e.chunk as Buffer);
      cb();
    },
  });
  write(stream);
  await new Promise((r) => setImmediate(r)); // mqtt-packet uncorks on the next tick
  return { bytes: Buffer.concat(chunks), calls };
}

describe('four-byte PUBACK writer', () => {
  useFastAcks();
  const installed = mqttPacket.writeToStream as unknown as typeof stockWriteToStream;

  it('is what aedes finds on mqtt-packet once the broker installs it', () => {
    expect(installed).not.toBe(stockWriteToStream);
  });

  it.each([0, 1, 255, 256, 4660, 65535])(
    'writes the same bytes as mqtt-packet for message id %i, in one write',
    async (messageId) => {
      const ours = await written((s) => installed({ cmd: 'puback', messageId }, s));
      const theirs = await written((s) => stockWriteToStream({ cmd: 'puback', messageId }, s));
      expect(ours.bytes).toEqual(theirs.bytes);
      expect(ours.bytes).toEqual(Buffer.from([0x40, 2, messageId >> 8, messageId & 0xff]));
      expect(ours.calls).toBe(1);
    },
  );

  it('leaves MQTT 5 acks, reason codes, properties and other packets to mqtt-packet', async () => {
    const cases: Array<[object, object | undefined]> = [
      [{ cmd: 'puback', messageId: 7, reasonCode: 16 }, { protocolVersion: 5 }],
      [{ cmd: 'puback', messageId: 7, properties: { reasonString: 'no' } }, { protocolVersion: 5 }],
      [{ cmd: 'puback', messageId: 7 }, { protocolVersion: 5 }],
      [{ cmd: 'pubrec', messageId: 7 }, undefined],
      [{ cmd: 'pingresp' }, undefined],
      [{ cmd: 'suback', messageId: 3, granted: [1, 128] }, undefined],
    ];
    for (const [packet, opts] of cases) {
      const ours = await written((s) => installed(packet, s, opts));
      const theirs = await written((s) => stockWriteToStream(packet, s, opts));
      expect(ours.bytes).toEqual(theirs.bytes);
    }
  });

  it('treats an invalid message id exactly as mqtt-packet does (no four-byte ack)', () => {
    const outcome = (write: typeof stockWriteToStream, messageId: unknown): string => {
      const stream = new Writable({ write: (_c, _e, cb) => cb() });
      stream.on('error', () => {});
      try {
        return `returned ${write({ cmd: 'puback', messageId }, stream)}, destroyed ${stream.destroyed}`;
      } catch (err) {
        return `threw ${(err as Error).name}`;
      }
    };
    for (const messageId of [-1, 65536, 1.5, '7', undefined]) {
      const ours = outcome(installed, messageId);
      expect(ours).toBe(outcome(stockWriteToStream, messageId));
      expect(ours).not.toBe('returned true, destroyed false');
    }
  });
});
