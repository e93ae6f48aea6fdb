import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { FeedClient } from '../helpers/feed-client.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { mqttString, varint } from '../helpers/mqtt-bytes.js';

interface Alert {
  id: string;
  kind: string;
  homeId: string;
  deviceId: string;
  status: string;
  occurrences: number;
}

const events = (id: string) => `carehub/v1/devices/${id}/events`;
const commands = (id: string) => `carehub/v1/devices/${id}/commands`;
const sos = (id?: string) =>
  JSON.stringify(id === undefined ? { type: 'sos.pressed' } : { type: 'sos.pressed', id });

/** Rejects when `p` has not settled within `ms`: no test waits on a PUBACK or a close forever. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One value of the hub's Prometheus text (0 when the series does not exist yet). */
async function metric(t: TestHub, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const key = sel ? `${name}{${sel}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
}

/** SUBACK return codes for `topics` (mqtt.js rejects the promise when one is 0x80; the packet is on the error). */
async function suback(client: MqttClient, topics: string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

/** A hand-made MQTT 3.1.1 CONNECT, for what the mqtt client library will not send. */
function connectPacket(o: {
  clientId: string;
  username?: string;
  password?: string;
  clean: boolean;
}): Buffer {
  let flags = o.clean ? 0x02 : 0;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const body = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([4, flags, 0, 30]),
    mqttString(o.clientId),
    ...(o.username !== undefined ? [mqttString(o.username)] : []),
    ...(o.password !== undefined ? [mqttString(o.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

describe('broker security', () => {
  const cleanup = useCleanup();

  async function hub(raw?: Record<string, unknown>): Promise<TestHub> {
    const t = await startHub(raw ? { raw } : {});
    cleanup.push(() => t.stop());
    return t;
  }

  async function device(url: string, id: string, options: IClientOptions = {}): Promise<MqttClient> {
    const client = await connectDevice(url, id, { protocolVersion: 4, ...options });
    cleanup.push(() => client.endAsync(true));
    return client;
  }

  /** Connect and expect a refusal: resolves with the CONNACK return code and message. */
  function refusal(
    url: string,
    options: IClientOptions,
  ): Promise<{ code: number | undefined; message: string }> {
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    cleanup.push(() => client.endAsync(true));
    return within(
      new Promise((resolve, reject) => {
        client.once('connect', () => reject(new Error('the hub accepted the connection')));
        client.once('error', (err: Error & { code?: number }) =>
          resolve({ code: err.code, message: err.message }),
        );
      }),
      6000,
      'refusal',
    );
  }

  async function rawSocket(port: number): Promise<Socket> {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    cleanup.push(() => socket.destroy());
    await within(new Promise((resolve) => socket.once('connect', resolve)), 5000, 'tcp connect');
    return socket;
  }

  /** Milliseconds until the hub closes `socket` (measured from now). */
  function closeTime(socket: Socket, limitMs: number): Promise<number> {
    const start = Date.now();
    if (socket.destroyed) return Promise.resolve(0);
    return within(
      new Promise((resolve) => socket.once('close', () => resolve(Date.now() - start))),
      limitMs,
      'socket close',
    );
  }

  async function alertsAs(t: TestHub, username: string): Promise<Alert[]> {
    const res = await api<{ alerts: Alert[] }>(t.httpUrl, await login(t.httpUrl, username), '/api/v1/alerts');
    expect(res.status).toBe(200);
    return res.body.alerts;
  }

  describe('authentication', () => {
    it('refuses anonymous connections with CONNACK 5 (not authorized)', async () => {
      const t = await hub();
      const anon = await refusal(t.mqttUrl, { clientId: 'h1-sos' });
      expect(anon.code).toBe(5);
      expect(anon.message).toMatch(/Not authorized/);
      // a user name without a password is anonymous too
      expect((await refusal(t.mqttUrl, { clientId: 'h1-sos', username: 'h1-sos' })).code).toBe(5);
      expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'anonymous' })).toBe(2);
      expect(t.hub.broker.aedes.connectedClients).toBe(0);
    });

    it('refuses a wrong password, an unknown device and another device’s secret', async () => {
      const t = await hub();
      const wrong = await refusal(t.mqttUrl, {
        clientId: 'h1-sos',
        username: 'h1-sos',
        password: 'h1-sos-wrong',
      });
      expect(wrong.code).toBe(4);
      const unknown = await refusal(t.mqttUrl, {
        clientId: 'h9-sos',
        username: 'h9-sos',
        password: 'h9-sos-demo',
      });
      expect(unknown.code).toBe(4);
      const swapped = await refusal(t.mqttUrl, {
        clientId: 'h1-sos',
        username: 'h1-sos',
        password: 'h2-sos-demo',
      });
      expect(swapped.code).toBe(4);
      expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'bad_credentials' })).toBe(
        3,
      );
      // and the right secret still works afterwards
      const ok = await device(t.mqttUrl, 'h1-sos');
      expect(ok.connected).toBe(true);
    });

    it('refuses a client id that differs from the user name, even with valid credentials', async () => {
      const t = await hub();
      const r = await refusal(t.mqttUrl, { clientId: 'h2-sos', username: 'h1-sos', password: 'h1-sos-demo' });
      expect(r.code).toBe(2);
      expect(
        await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'client_id_mismatch' }),
      ).toBe(1);
    });

    it('refuses a zero-length client id with clean session off (and on), closing the connection', async () => {
      const t = await hub();
      for (const clean of [false, true]) {
        const socket = await rawSocket(t.hub.ports.mqtt);
        const received: Buffer[] = [];
        socket.on('data', (d: Buffer) => received.push(d));
        const closed = closeTime(socket, 5000);
        socket.write(connectPacket({ clientId: '', username: 'h1-sos', password: 'h1-sos-demo', clean }));
        await closed;
        const connack = Buffer.concat(received);
        expect(connack.length, `clean=${clean}`).toBeGreaterThanOrEqual(4);
        expect(connack[0]).toBe(0x20);
        expect(connack[3], `clean=${clean}: CONNACK return code`).not.toBe(0);
        // MQTT 3.1.1 [MQTT-3.1.3-8]: identifier rejected
        expect(connack[3]).toBe(2);
      }
      expect(t.hub.broker.aedes.connectedClients).toBe(0);
    });
  });

  describe('topic ACL', () => {
    it('drops and counts a publish on another device’s topics: no alert for that home, and the device stays connected', async () => {
      const t = await hub();
      const before = await metric(t, 'carehub_ingest_rejected_total', { reason: 'acl_denied' });
      const h2 = await device(t.mqttUrl, 'h2-sos');
      const h2Commands: Array<Record<string, unknown>> = [];
      h2.on('message', (_topic, payload) =>
        h2Commands.push(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
      await h2.subscribeAsync(commands('h2-sos'), { qos: 1 });

      const h1 = await device(t.mqttUrl, 'h1-sos');
      // each is acknowledged (QoS 1), so a device cannot tell a refusal from an acceptance
      await within(
        h1.publishAsync(events('h2-sos'), sos('spoof-1'), { qos: 1 }),
        5000,
        'PUBACK of a refused event',
      );
      await within(
        h1.publishAsync('carehub/v1/devices/h2-sos/status', '{"state":"offline"}', { qos: 1, retain: true }),
        5000,
        'PUBACK',
      );
      await within(
        h1.publishAsync(
          commands('h2-sos'),
          JSON.stringify({ type: 'alert.acknowledged', alertId: 'x', by: 'nobody' }),
          { qos: 1 },
        ),
        5000,
        'PUBACK',
      );
      await within(
        h1.publishAsync(commands('h1-sos'), JSON.stringify({ type: 'alert.resolved', alertId: 'x' }), {
          qos: 1,
        }),
        5000,
        'PUBACK',
      );
      await within(h1.publishAsync('zigbee2mqtt/pendant', '{"action":"sos"}', { qos: 1 }), 5000, 'PUBACK');
      expect(h1.connected).toBe(true);
      expect(
        await metric(t, 'carehub_ingest_rejected_total', { reason: 'acl_denied' }),
      ).toBeGreaterThanOrEqual(before + 5);

      // the pipeline is flowing: a real press from h1 and one from h2 become alerts …
      await h1.publishAsync(events('h1-sos'), sos('real-1'), { qos: 1 });
      await h2.publishAsync(events('h2-sos'), sos('real-2'), { qos: 1 });
      const sosHomes = async () =>
        (await alertsAs(t, 'supervisor1'))
          .filter((a) => a.kind === 'sos')
          .map((a) => a.homeId)
          .sort();
      await expect.poll(sosHomes, { timeout: 5000 }).toEqual(['h1', 'h2']);
      // … and the spoofed h2 press added nothing to h2's alert
      const h2Alert = (await alertsAs(t, 'supervisor1')).find((a) => a.homeId === 'h2' && a.kind === 'sos');
      expect(h2Alert).toMatchObject({ deviceId: 'h2-sos', occurrences: 1 });
      // h2's pendant got only the hub's own command, never the forged acknowledgement
      await expect.poll(() => h2Commands.length, { timeout: 3000 }).toBeGreaterThanOrEqual(1);
      await sleep(200);
      expect(h2Commands.map((c) => c.type)).toEqual(['alert.received']);
      // nothing forged was journalled for h2
      const db = new Database(join(t.dataDir, 'hub.db'), { readonly: true });
      try {
        const rows = db
          .prepare("SELECT event_id FROM journal WHERE device_id = 'h2-sos' AND type = 'sos.pressed'")
          .all();
        expect(rows).toEqual([{ event_id: 'real-2' }]);
      } finally {
        db.close();
      }
    });

    it('holds a Last Will to the same ACL: a will on another device’s commands topic is removed at CONNECT, an own offline status is taken', async () => {
      const t = await hub();
      const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'supervisor1'));
      cleanup.push(() => feed.close());
      const h2 = await device(t.mqttUrl, 'h2-sos');
      const h2Commands: Array<Record<string, unknown>> = [];
      h2.on('message', (_topic, payload) =>
        h2Commands.push(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
      await h2.subscribeAsync(commands('h2-sos'), { qos: 1 });

      const before = await metric(t, 'carehub_mqtt_wills_refused_total', { reason: 'topic' });
      const forger = await device(t.mqttUrl, 'h1-sos', {
        will: {
          topic: commands('h2-sos'),
          payload: Buffer.from('{"type":"alert.acknowledged","alertId":"x","by":"forged"}'),
          qos: 1,
          retain: false,
        },
      });
      // admitted, without its will (issue 16: wills belong on the device's own status topic)
      expect(await metric(t, 'carehub_mqtt_wills_refused_total', { reason: 'topic' })).toBe(before + 1);
      forger.stream.destroy(); // gone without DISCONNECT: a will would be published now

      // the pendant announces itself, then drops off with its (own, legitimate) will
      const pendant = await device(t.mqttUrl, 'h1-sos', {
        will: {
          topic: 'carehub/v1/devices/h1-sos/status',
          payload: Buffer.from('{"state":"offline"}'),
          qos: 1,
          retain: true,
        },
      });
      await pendant.publishAsync('carehub/v1/devices/h1-sos/status', '{"state":"online"}', {
        qos: 1,
        retain: true,
      });
      await feed.next(
        (m) => m.type === 'device' && (m.device as { id: string; online: boolean }).id === 'h1-sos',
      );
      pendant.stream.destroy();
      const offline = await feed.next(
        (m) => m.type === 'device' && (m.device as { id: string; online: boolean }).online === false,
      );
      expect(offline.device).toMatchObject({ id: 'h1-sos', homeId: 'h1', online: false });

      await h2.publishAsync(events('h2-sos'), sos('after-will'), { qos: 1 });
      await expect.poll(() => h2Commands.length, { timeout: 3000 }).toBeGreaterThanOrEqual(1);
      await sleep(100);
      expect(h2Commands.map((c) => c.type)).toEqual(['alert.received']);
    });

    it('grants 0x80 to subscriptions outside the device’s own commands topic, and counts them', async () => {
      const t = await hub();
      const before = await metric(t, 'carehub_ingest_rejected_total', { reason: 'acl_denied' });
      const h1 = await device(t.mqttUrl, 'h1-sos');
      const topics = [
        '#',
        commands('h2-sos'),
        'carehub/v1/devices/+/commands',
        'carehub/v1/devices/h1-sos/#',
        '$SYS/#',
        '$carehub/discard',
      ];
      expect(await suback(h1, topics)).toEqual([128, 128, 128, 128, 128, 128]);
      expect(await suback(h1, [commands('h1-sos')])).toEqual([1]);
      // a mixed request: each filter on its own merits
      expect(await suback(h1, [commands('h3-sos'), commands('h1-sos')])).toEqual([128, 1]);
      expect(await metric(t, 'carehub_ingest_rejected_total', { reason: 'acl_denied' })).toBe(before + 7);
      expect(h1.connected).toBe(true);

      // and indeed nothing of h2 reaches h1: an h2 SOS produces a command for h2 only
      const got: string[] = [];
      h1.on('message', (topic) => got.push(topic));
      const h2 = await device(t.mqttUrl, 'h2-sos');
      const h2Got: string[] = [];
      h2.on('message', (topic) => h2Got.push(topic));
      await h2.subscribeAsync(commands('h2-sos'), { qos: 1 });
      await h2.publishAsync(events('h2-sos'), sos('x1'), { qos: 1 });
      await expect.poll(() => h2Got, { timeout: 3000 }).toEqual([commands('h2-sos')]);
      await sleep(100);
      expect(got).toEqual([]);
    });
  });

  describe('bad payloads', () => {
    it('acknowledges, counts, dead-letters and survives non-JSON, unknown types, wrong field types and oversize events', async () => {
      const t = await hub();
      const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
      cleanup.push(() => feed.close());
      const h1 = await device(t.mqttUrl, 'h1-sos');
      let closed = 0;
      h1.on('close', () => closed++);

      const oversize = Buffer.from(JSON.stringify({ type: 'sos.pressed', id: 'big', pad: 'x'.repeat(5000) }));
      expect(oversize.length).toBeGreaterThan(4096);
      const cases: Array<[reason: string, payload: Buffer]> = [
        ['not_json', Buffer.from('HELP! pressed')],
        ['not_utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
        ['unknown_type', Buffer.from('{"type":"sos.maybe","id":"u1"}')],
        ['invalid_payload', Buffer.from('{"type":"sos.pressed","id":"w1","battery":"full"}')],
        ['invalid_payload', Buffer.from('[{"type":"sos.pressed"}]')],
        ['too_large', oversize],
      ];
      const before = new Map<string, number>();
      for (const [reason] of cases)
        before.set(reason, await metric(t, 'carehub_ingest_rejected_total', { reason }));

      for (const [reason, payload] of cases) {
        // resolves on the PUBACK
        await within(
          h1.publishAsync(events('h1-sos'), payload, { qos: 1 }),
          5000,
          `PUBACK of a ${reason} event`,
        );
        expect(h1.connected, reason).toBe(true);
      }
      await within(
        h1.publishAsync('carehub/v1/devices/h1-sos/status', '{"state":"sleepy"}', { qos: 1 }),
        5000,
        'PUBACK of a bad status',
      );

      for (const [reason] of new Map(cases)) {
        const expected =
          (before.get(reason) ?? 0) +
          cases.filter(([r]) => r === reason).length +
          (reason === 'invalid_payload' ? 1 : 0);
        expect(await metric(t, 'carehub_ingest_rejected_total', { reason }), reason).toBe(expected);
      }

      const db = new Database(join(t.dataDir, 'hub.db'), { readonly: true });
      let dead: Array<{ reason: string; client_id: string; topic: string; payload: Buffer }>;
      let journalled: number;
      try {
        dead = db
          .prepare('SELECT reason, client_id, topic, payload FROM dead_letter ORDER BY id')
          .all() as typeof dead;
        journalled = (
          db.prepare("SELECT count(*) AS n FROM journal WHERE type = 'sos.pressed'").get() as { n: number }
        ).n;
      } finally {
        db.close();
      }
      expect(dead.map((d) => d.reason)).toEqual([...cases.map(([r]) => r), 'invalid_payload']);
      expect(dead.every((d) => d.client_id === 'h1-sos')).toBe(true);
      expect(dead[0]?.topic).toBe(events('h1-sos'));
      expect(dead[1]?.payload.equals(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe(true);
      expect(dead[5]?.payload.length).toBe(oversize.length);
      expect(journalled).toBe(0);
      expect(feed.messages.some((m) => m.type === 'alert')).toBe(false);

      // still connected, never reconnected, and the next valid SOS raises an alert
      await h1.publishAsync(events('h1-sos'), sos('after-bad'), { qos: 1 });
      const msg = await feed.next((m) => m.type === 'alert' && (m.alert as Alert).kind === 'sos');
      expect(msg.alert).toMatchObject({ kind: 'sos', homeId: 'h1', occurrences: 1 });
      expect(closed).toBe(0);
      expect(h1.connected).toBe(true);
      const health = (await (await fetch(`${t.httpUrl}/healthz`)).json()) as { status: string };
      expect(health.status).toBe('ok');
    });
  });

  describe('byte caps', () => {
    it('closes a socket that writes 64 MB of junk before CONNECT, quickly and without buffering it', async () => {
      const t = await hub();
      const socket = await rawSocket(t.hub.ports.mqtt);
      const closed = closeTime(socket, 10_000);
      // Junk that starts like a PUBLISH announcing 256 MB: without the guard, the MQTT parser buffers all of it
      // while it waits for the announced body (measured: +64 MB RSS), until the connect timeout.
      const chunk = randomBytes(64 * 1024);
      chunk.set([0x30, 0xff, 0xff, 0xff, 0x7f], 0);
      const rssBefore = process.memoryUsage().rss;
      let written = 0;
      let drained: () => void = () => {};
      socket.on('drain', () => drained());
      for (let i = 0; i < 1024 && !socket.destroyed; i++) {
        const ok = socket.write(chunk);
        written += chunk.length;
        if (!ok) await Promise.race([new Promise<void>((r) => (drained = r)), closed, sleep(2000)]);
      }
      const ms = await closed;
      await sleep(100);
      const grown = process.memoryUsage().rss - rssBefore;
      expect(ms).toBeLessThan(t.config.mqtt.connectTimeoutMs);
      expect(
        grown,
        `RSS grew by ${(grown / 1e6).toFixed(1)} MB after ${(written / 1e6).toFixed(1)} MB of junk`,
      ).toBeLessThan(16 * 1024 * 1024);
      expect(
        await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'first_packet_not_connect' }),
      ).toBe(1);
      // the broker is fine
      const h1 = await device(t.mqttUrl, 'h1-sos');
      await within(
        h1.publishAsync(events('h1-sos'), sos('after-junk'), { qos: 1 }),
        5000,
        'PUBACK after junk',
      );
    });

    it('closes a CONNECT that announces 200 MB at once, long before the connect timeout', async () => {
      const t = await hub();
      const socket = await rawSocket(t.hub.ports.mqtt);
      const closed = closeTime(socket, 5000);
      socket.write(Buffer.concat([Buffer.from([0x10]), varint(200 * 1024 * 1024)]));
      const ms = await closed;
      expect(t.config.mqtt.connectTimeoutMs).toBe(10_000);
      expect(ms).toBeLessThan(1500);
      expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'connect_too_large' })).toBe(
        1,
      );
    });

    it('closes a client that never sends CONNECT (or only part of one) after mqtt.connectTimeoutMs', async () => {
      const raw = demoRaw();
      const t = await hub({
        ...raw,
        mqtt: { ...(raw.mqtt as Record<string, unknown>), connectTimeoutMs: 1000 },
      });
      const silent = await rawSocket(t.hub.ports.mqtt);
      const partial = await rawSocket(t.hub.ports.mqtt);
      const [silentMs, partialMs] = await Promise.all([
        closeTime(silent, 5000),
        (async () => {
          const closed = closeTime(partial, 5000);
          partial.write(
            connectPacket({
              clientId: 'h1-sos',
              username: 'h1-sos',
              password: 'h1-sos-demo',
              clean: true,
            }).subarray(0, 12),
          );
          return closed;
        })(),
      ]);
      for (const ms of [silentMs, partialMs]) {
        expect(ms).toBeGreaterThanOrEqual(800);
        expect(ms).toBeLessThan(3000);
      }
    });

    it('closes a connection that sends a packet over mqtt.maxPacketBytes; other devices carry on', async () => {
      const t = await hub();
      const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'supervisor1'));
      cleanup.push(() => feed.close());
      const h2 = await device(t.mqttUrl, 'h2-sos');
      const door = await device(t.mqttUrl, 'h1-door');
      const big = await device(t.mqttUrl, 'h1-sos');
      const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
      const max = t.config.mqtt.maxPacketBytes;
      big.publish(events('h1-sos'), Buffer.alloc(max + 1024, 0x20), { qos: 0 });
      await within(closed, 5000, 'close of the oversize sender');
      expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'packet_too_large' })).toBe(
        1,
      );

      expect(h2.connected).toBe(true);
      expect(door.connected).toBe(true);
      await within(
        door.publishAsync(events('h1-door'), '{"type":"door.opened","id":"d1"}', { qos: 1 }),
        5000,
        'PUBACK to another device',
      );
      await within(
        h2.publishAsync(events('h2-sos'), sos('after-big'), { qos: 1 }),
        5000,
        'PUBACK to another device',
      );
      const msg = await feed.next((m) => m.type === 'alert' && (m.alert as Alert).kind === 'sos');
      expect(msg.alert).toMatchObject({ kind: 'sos', homeId: 'h2' });
      // the sender may reconnect and is served normally
      const again = await device(t.mqttUrl, 'h1-sos');
      await within(
        again.publishAsync(events('h1-sos'), sos('small'), { qos: 1 }),
        5000,
        'PUBACK after reconnect',
      );
    });
  });

  describe('MQTT over WebSocket', () => {
    it('serves a device on /mqtt of the HTTP port: press → alert, and alert.received back', async () => {
      const t = await hub();
      const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'duty1'));
      cleanup.push(() => feed.close());
      const url = `ws://127.0.0.1:${t.hub.ports.mqttWs}${t.config.mqtt.wsPath}`;
      expect(t.config.mqtt.wsPath).toBe('/mqtt');
      const pendant = await device(url, 'h1-sos');
      const got: Array<Record<string, unknown>> = [];
      pendant.on('message', (_topic, payload) =>
        got.push(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
      await pendant.subscribeAsync(commands('h1-sos'), { qos: 1 });
      expect(await suback(pendant, ['#'])).toEqual([128]);
      await within(
        pendant.publishAsync(events('h1-sos'), sos('ws-1'), { qos: 1 }),
        5000,
        'PUBACK over WebSocket',
      );
      const msg = await feed.next((m) => m.type === 'alert' && (m.alert as Alert).kind === 'sos');
      const alert = msg.alert as Alert;
      expect(alert).toMatchObject({ kind: 'sos', homeId: 'h1', deviceId: 'h1-sos' });
      await expect
        .poll(() => got, { timeout: 3000 })
        .toEqual([{ type: 'alert.received', alertId: alert.id }]);
    });

    it('refuses bad credentials and anonymous clients over WebSocket', async () => {
      const t = await hub();
      const url = `ws://127.0.0.1:${t.hub.ports.mqttWs}/mqtt`;
      expect((await refusal(url, { clientId: 'h1-sos', username: 'h1-sos', password: 'nope' })).code).toBe(4);
      expect((await refusal(url, { clientId: 'h1-sos' })).code).toBe(5);
      expect(
        (await refusal(url, { clientId: 'h2-sos', username: 'h1-sos', password: 'h1-sos-demo' })).code,
      ).toBe(2);
      expect(t.hub.broker.aedes.connectedClients).toBe(0);
    });

    it('applies the byte caps to WebSocket clients too', async () => {
      const t = await hub();
      const { default: WebSocket } = await import('ws');
      const ws = new WebSocket(`ws://127.0.0.1:${t.hub.ports.mqttWs}/mqtt`, 'mqtt');
      cleanup.push(() => ws.terminate());
      ws.on('error', () => {});
      await within(new Promise((resolve) => ws.once('open', resolve)), 5000, 'ws open');
      const closed = within(new Promise((resolve) => ws.once('close', resolve)), 5000, 'ws close');
      ws.send(Buffer.concat([Buffer.from([0x10]), varint(200 * 1024 * 1024)]));
      await closed;
      expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'connect_too_large' })).toBe(
        1,
      );
    });
  });
});
