import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { FeedClient } from '../helpers/feed-client.js';
import { connectDevice, login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * WebSocket fuzzing of the staff feed (`/api/v1/feed`) and MQTT over WebSocket (`/mqtt`) with a raw
 * socket: bad handshakes get the proper HTTP status, protocol violations the proper close code
 * (RFC 6455 §7.4: 1002 protocol error, 1007 bad UTF-8, 1008 policy, 1009 too big), and the hub
 * stays up for everyone else. ws ≥ 8.21 does the frame checks; the hub sets the limits.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

/** One client frame. Masked unless told otherwise; `length` may lie about the payload. */
function frame(
  opcode: number,
  payload: Buffer | string = Buffer.alloc(0),
  o: { fin?: boolean; mask?: boolean; rsv?: number; length?: bigint } = {},
): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const first = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  const mask = o.mask ?? true;
  const len = o.length ?? BigInt(body.length);
  let header: Buffer;
  if (len < 126n) header = Buffer.from([first, (mask ? 0x80 : 0) | Number(len)]);
  else if (len < 65536n)
    header = Buffer.from([first, (mask ? 0x80 : 0) | 126, Number(len) >> 8, Number(len) & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(len, 2);
  }
  if (!mask) return Buffer.concat([header, body]);
  const key = randomBytes(4);
  const masked = Buffer.from(body);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([header, key, masked]);
}

interface Raw {
  socket: Socket;
  /** The HTTP status of the handshake answer. */
  status: number;
  head: string;
  /** Resolves with the server's close code (1005 when its close frame has none), or 1006 when the socket ends without one. */
  closeCode: Promise<number>;
}

describe('WebSocket fuzzing', () => {
  const cleanup = useCleanup();

  async function hub(): Promise<{ t: TestHub; token: string }> {
    const t = await startHub();
    cleanup.push(() => t.stop());
    return { t, token: await login(t.httpUrl, 'supervisor1') };
  }

  /** Send `request` bytes; parse the HTTP answer, then server frames until a close frame. */
  async function open(t: TestHub, request: string | Buffer): Promise<Raw> {
    const socket = netConnect({ host: '127.0.0.1', port: t.hub.ports.http });
    socket.on('error', () => {});
    cleanup.push(() => socket.destroy());
    await within(new Promise((r) => socket.once('connect', r)), 5000, 'connect');
    let buf = Buffer.alloc(0);
    let head: string | undefined;
    let onHead: (h: string) => void = () => {};
    const headP = new Promise<string>((r) => {
      onHead = r;
    });
    let resolveClose: (code: number) => void = () => {};
    const closeCode = new Promise<number>((r) => {
      resolveClose = r;
    });
    const parseFrames = () => {
      for (;;) {
        if (buf.length < 2) return;
        const op = (buf[0] as number) & 0x0f;
        let len = (buf[1] as number) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (op === 8) resolveClose(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      }
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (head === undefined) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        onHead(head);
      }
      parseFrames();
    });
    socket.once('close', () => {
      onHead(head ?? '');
      resolveClose(1006);
    });
    socket.write(request);
    const h = await within(headP, 5000, 'HTTP answer');
    return { socket, head: h, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(h)?.[1] ?? 0), closeCode };
  }

  const handshake = (path: string, headers: Record<string, string>, extra = '') =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}${extra}\r\n`;

  const good = (token: string, more: Record<string, string> = {}) => ({
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    Authorization: `Bearer ${token}`,
    ...more,
  });

  it('answers bad handshakes with the proper HTTP status and never upgrades them', async () => {
    const { t, token } = await hub();
    const { 'Sec-WebSocket-Key': _key, ...noKey } = good(token);
    const cases: Array<[name: string, request: string, status: number]> = [
      ['wrong version', handshake('/api/v1/feed', good(token, { 'Sec-WebSocket-Version': '12' })), 400],
      [
        'missing version',
        handshake('/api/v1/feed', (({ 'Sec-WebSocket-Version': _v, ...h }) => h)(good(token))),
        400,
      ],
      ['missing key', handshake('/api/v1/feed', noKey), 400],
      [
        'a key that is not 16 bytes',
        handshake('/api/v1/feed', good(token, { 'Sec-WebSocket-Key': 'c2hvcnQ=' })),
        400,
      ],
      ['POST upgrade', handshake('/api/v1/feed', good(token)).replace(/^GET/, 'POST'), 405],
      ['no token', handshake('/api/v1/feed', (({ Authorization: _a, ...h }) => h)(good(token))), 401],
      [
        'a forged token',
        handshake('/api/v1/feed', good(token, { Authorization: `Bearer ${'A'.repeat(43)}` })),
        401,
      ],
      ['an unknown path', handshake('/api/v1/nope', good(token)), 404],
      [
        'thousands of headers',
        handshake(
          '/api/v1/feed',
          good(token),
          Array.from({ length: 5000 }, (_, i) => `x-h${i}: v\r\n`).join(''),
        ),
        431,
      ],
      ['one 20 KB header', handshake('/api/v1/feed', good(token, { 'X-Big': 'b'.repeat(20_000) })), 431],
      ['a header with a bare LF', `GET /api/v1/feed HTTP/1.1\r\nHost: x\nUpgrade: websocket\r\n\r\n`, 400],
      ['not HTTP at all', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${'x'.repeat(40)}\r\n\r\n`, 400],
      [
        'mqtt over ws: wrong version',
        handshake('/mqtt', {
          ...good(token, { 'Sec-WebSocket-Version': '7' }),
          'Sec-WebSocket-Protocol': 'mqtt',
        }),
        400,
      ],
    ];
    const got: string[] = [];
    for (const [name, request, status] of cases) {
      const r = await open(t, request);
      if (r.status !== status) got.push(`${name}: ${r.status} (wanted ${status})`);
      await within(r.closeCode, 5000, `${name}: close`);
    }
    expect(got).toEqual([]);
    expect(t.hub.feed.clientCount()).toBe(0);
  });

  it('closes with the proper code on protocol violations, and keeps serving everyone else', {
    timeout: 60_000,
  }, async () => {
    const { t, token } = await hub();
    const staff = await FeedClient.connect(t.wsUrl, token);
    cleanup.push(() => staff.close());
    const big = t.config.feed.maxMessageBytes + 1;
    const tiny = (n: number, size: number) =>
      Buffer.concat([
        frame(1, 'x'.repeat(size), { fin: false }),
        ...Array.from({ length: n }, () => frame(0, 'x'.repeat(size), { fin: false })),
      ]);
    const cases: Array<[name: string, frames: Buffer, codes: number[]]> = [
      ['an unmasked client frame', frame(1, '{"type":"ack"}', { mask: false }), [1002]],
      ['a text frame of invalid UTF-8', frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), [1007]],
      ['a text frame with a lone surrogate', frame(1, Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), [1007]],
      [
        'invalid UTF-8 split across fragments',
        Buffer.concat([
          frame(1, Buffer.from([0x22, 0xe2]), { fin: false }),
          frame(0, Buffer.from([0x28, 0xa1, 0x22])),
        ]),
        [1007],
      ],
      ['an oversize message', frame(1, 'x'.repeat(big)), [1009]],
      [
        'an oversize message in fragments',
        Buffer.concat([frame(1, 'x'.repeat(10_000), { fin: false }), frame(0, 'x'.repeat(10_000))]),
        [1009],
      ],
      ['a length of 2^63', frame(2, Buffer.alloc(0), { length: 2n ** 63n }), [1009]],
      ['a flood of 20 000 empty fragments', tiny(20_000, 0), [1008]],
      ['a flood of 1-byte fragments', tiny(20_000, 1), [1008, 1009]],
      ['RSV1 without an extension', frame(1, '{}', { rsv: 4 }), [1002]],
      ['RSV3', frame(1, '{}', { rsv: 1 }), [1002]],
      ['an unknown opcode', frame(3, '{}'), [1002]],
      ['a reserved control opcode', frame(0xb, ''), [1002]],
      ['a continuation with nothing to continue', frame(0, 'x'), [1002]],
      [
        'a new message inside a fragmented one',
        Buffer.concat([frame(1, 'a', { fin: false }), frame(1, 'b')]),
        [1002],
      ],
      ['a 126-byte ping', frame(9, 'p'.repeat(126)), [1002]],
      ['a fragmented ping', frame(9, 'p', { fin: false }), [1002]],
      ['a close frame of 1 byte', frame(8, Buffer.from([3])), [1002]],
      ['a close frame with code 999', frame(8, Buffer.from([0x03, 0xe7])), [1002]],
      ['a close frame with code 1005', frame(8, Buffer.from([0x03, 0xed])), [1002]],
      ['a close frame with an invalid UTF-8 reason', frame(8, Buffer.from([0x03, 0xe8, 0xff])), [1007]],
    ];
    const got: string[] = [];
    for (const [name, frames, codes] of cases) {
      const r = await open(t, handshake('/api/v1/feed', good(token)));
      expect(r.status, name).toBe(101);
      r.socket.write(frames);
      const code = await within(r.closeCode, 5000, `${name}: close`);
      if (!codes.includes(code)) got.push(`${name}: ${code} (wanted ${codes.join(' or ')})`);
    }
    // MQTT over WebSocket has its own cap (mqtt.maxPacketBytes)
    const mq = await open(t, handshake('/mqtt', { ...good(token), 'Sec-WebSocket-Protocol': 'mqtt' }));
    expect(mq.status).toBe(101);
    mq.socket.write(frame(2, Buffer.alloc(t.config.mqtt.maxPacketBytes + 1024)));
    const mqCode = await within(mq.closeCode, 5000, 'mqtt over ws: close');
    if (mqCode !== 1009) got.push(`mqtt over ws, an oversize frame: ${mqCode} (wanted 1009)`);
    expect(got).toEqual([]);

    // a ping flood from a client that never reads the pongs: memory stays bounded
    for (const path of ['/api/v1/feed', '/mqtt']) {
      const flood = await open(t, handshake(path, { ...good(token), 'Sec-WebSocket-Protocol': 'mqtt' }));
      expect(flood.status, path).toBe(101);
      flood.socket.pause();
      const ping = frame(9, 'p'.repeat(125));
      const chunk = Buffer.concat(Array.from({ length: 1000 }, () => ping));
      const rss = process.memoryUsage().rss;
      let sent = 0;
      for (let i = 0; i < 200 && !flood.socket.destroyed; i++) {
        sent += chunk.length;
        if (!flood.socket.write(chunk))
          await Promise.race([new Promise((r) => flood.socket.once('drain', r)), sleep(500)]);
      }
      const grown = process.memoryUsage().rss - rss;
      expect(
        grown,
        `${path}: RSS grew ${(grown / 1e6).toFixed(1)} MB after ${(sent / 1e6).toFixed(1)} MB of pings`,
      ).toBeLessThan(48 * 1024 * 1024);
      flood.socket.destroy();
    }

    // well-formed but wrong messages get a result error, not a close
    const polite = await open(t, handshake('/api/v1/feed', good(token)));
    polite.socket.write(frame(1, '{"type":"ack","alertId":"nope","requestId":"r1"}'));
    polite.socket.write(frame(2, Buffer.from('{"type":"ack"}')));
    polite.socket.write(frame(1, 'not json'));
    await sleep(300);
    expect(polite.socket.destroyed).toBe(false);

    // the process is up and the staff client is served: an SOS reaches it
    await expect.poll(() => t.hub.feed.clientCount(), { timeout: 5000 }).toBe(2);
    const health = (await (await fetch(`${t.httpUrl}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const pendant = await connectDevice(t.mqttUrl, 'h1-sos');
    cleanup.push(() => pendant.endAsync(true));
    await pendant.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'ws-fuzz' }),
      { qos: 1 },
    );
    const msg = await staff.next((m) => m.type === 'alert');
    expect(msg.alert).toMatchObject({ kind: 'sos', homeId: 'h1' });
  });
});
