import { connect as netConnect, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { FeedClient } from '../helpers/feed-client.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { type LogLine, metric, sleep, startLoggedHub, within } from '../helpers/hub-probe.js';
import { mqttString, rawPacket } from '../helpers/mqtt-bytes.js';

/**
 * Issue 16, item 6 (MQTT parts): refused publishes and subscriptions do not flood the log, a Last
 * Will stands only as a status on the device's own status topic, and SUBACK never grants QoS 2.
 */

const events = (id: string) => `carehub/v1/devices/${id}/events`;
const status = (id: string) => `carehub/v1/devices/${id}/status`;
const commands = (id: string) => `carehub/v1/devices/${id}/commands`;

describe('broker refusals', () => {
  const cleanup = useCleanup();

  async function hub(): Promise<{ t: TestHub; lines: LogLine[] }> {
    const h = await startLoggedHub();
    cleanup.push(() => h.t.stop());
    return h;
  }

  async function device(t: TestHub, id: string, options: IClientOptions = {}): Promise<MqttClient> {
    const c = await connectDevice(t.mqttUrl, id, { protocolVersion: 4, ...options });
    cleanup.push(() => c.endAsync(true));
    return c;
  }

  const linesOf = (lines: LogLine[], msg: string) => lines.filter((l) => l.msg === msg);

  it('logs a 20 KB SUBSCRIBE of refused filters and a burst of refused publishes once each, and counts every one', async () => {
    const { t, lines } = await hub();
    const c = await device(t, 'h1-sos');
    const before = await metric(t, 'carehub_ingest_rejected_total', { reason: 'acl_denied' });
    const filters = Array.from({ length: 3000 }, (_, i) => `x/${i}`);
    const bytes = filters.reduce((n, f) => n + 2 + f.length + 1, 2);
    expect(bytes).toBeGreaterThan(20_000);
    const granted = await c.subscribeAsync(filters, { qos: 1 }).then(
      (g) => g.map((x) => x.qos),
      (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [],
    );
    expect(granted).toHaveLength(3000);
    expect(granted.every((g) => g === 128)).toBe(true);
    for (let i = 0; i < 200; i++) await c.publishAsync(events('h2-sos'), '{"type":"heartbeat"}', { qos: 1 });
    expect(await metric(t, 'carehub_ingest_rejected_total', { reason: 'acl_denied' })).toBe(before + 3200);
    expect(linesOf(lines, 'subscribe refused by ACL')).toHaveLength(1);
    expect(linesOf(lines, 'publish refused by ACL')).toHaveLength(1);
    expect(linesOf(lines, 'subscribe refused by ACL')[0]).toMatchObject({ client: 'h1-sos', topic: 'x/0' });
    expect(c.connected).toBe(true);
  });

  it('removes a Last Will on the device’s events topic at CONNECT: admitted, counted, logged once, and an abrupt disconnect raises no SOS', async () => {
    const { t, lines } = await hub();
    const before = await metric(t, 'carehub_mqtt_wills_refused_total', { reason: 'topic' });
    const c = await device(t, 'h1-sos', {
      will: {
        topic: events('h1-sos'),
        payload: Buffer.from('{"type":"sos.pressed"}'),
        qos: 1,
        retain: false,
      },
    });
    expect(c.connected).toBe(true);
    expect(await metric(t, 'carehub_mqtt_wills_refused_total', { reason: 'topic' })).toBe(before + 1);
    expect(linesOf(lines, 'last will refused: the device is connected without it')).toEqual([
      expect.objectContaining({ client: 'h1-sos', topic: events('h1-sos'), reason: 'not its status topic' }),
    ]);
    c.stream.destroy(); // gone without DISCONNECT: this is when a will is published
    await expect
      .poll(() => lines.some((l) => l.msg === 'mqtt connection closed' && l.client === 'h1-sos'), {
        timeout: 3000,
      })
      .toBe(true);
    await sleep(300);
    const token = await login(t.httpUrl, 'supervisor1');
    const res = await api<{ alerts: Array<{ kind: string }> }>(t.httpUrl, token, '/api/v1/alerts?homeId=h1');
    expect(res.body.alerts).toEqual([]);
    expect(await metric(t, 'carehub_ingest_events_total', { type: 'sos.pressed' })).toBe(0);
  });

  it('removes a Last Will on the status topic that is not a status, keeps a real one', async () => {
    const { t } = await hub();
    const feed = await FeedClient.connect(t.wsUrl, await login(t.httpUrl, 'supervisor1'));
    cleanup.push(() => feed.close());
    for (const payload of ['offline', '{"state":"gone"}', '{"type":"sos.pressed"}']) {
      const c = await device(t, 'h2-door', {
        will: { topic: status('h2-door'), payload: Buffer.from(payload), qos: 1, retain: true },
      });
      await c.endAsync();
    }
    expect(await metric(t, 'carehub_mqtt_wills_refused_total', { reason: 'payload' })).toBe(3);
    const good = await device(t, 'h2-door', {
      will: { topic: status('h2-door'), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    await good.publishAsync(status('h2-door'), '{"state":"online"}', { qos: 1, retain: true });
    await feed.next((m) => m.type === 'device' && (m.device as { id: string }).id === 'h2-door');
    good.stream.destroy();
    const offline = await feed.next(
      (m) => m.type === 'device' && (m.device as { id: string; online: boolean }).online === false,
    );
    expect(offline.device).toMatchObject({ id: 'h2-door', online: false });
    expect(await metric(t, 'carehub_mqtt_wills_refused_total', { reason: 'payload' })).toBe(3);
  });

  it('never grants QoS 2: SUBACK says 1 for a QoS 2 request on the commands topic, and commands arrive at QoS 1', async () => {
    const { t } = await hub();
    const c = await device(t, 'h1-sos');
    const granted = await c.subscribeAsync(commands('h1-sos'), { qos: 2 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    const got: number[] = [];
    c.on('message', (_topic, _payload, packet) => got.push(packet.qos));
    t.hub.broker.publishCommand('h1-sos', { type: 'alert.received', alertId: 'a1' });
    await expect.poll(() => got, { timeout: 3000 }).toEqual([1]);
  });

  it('never grants QoS 2 to a SUBSCRIBE pipelined behind its CONNECT either (raw bytes)', async () => {
    const { t } = await hub();
    const port = Number(new URL(t.mqttUrl).port);
    const socket: Socket = netConnect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    cleanup.push(() => socket.destroy());
    const received: Buffer[] = [];
    socket.on('data', (b) => received.push(b));
    await within(new Promise((r) => socket.once('connect', r)), 5000, 'tcp connect');
    const connect = rawPacket(
      0x10,
      mqttString('MQTT'),
      Buffer.from([4, 0xc2, 0, 30]),
      mqttString('h1-sos'),
      mqttString('h1-sos'),
      mqttString('h1-sos-demo'),
    );
    // SUBSCRIBE id 7: own commands at QoS 2, and `#` at QoS 2
    const subscribe = rawPacket(
      0x82,
      Buffer.from([0, 7]),
      mqttString(commands('h1-sos')),
      Buffer.from([2]),
      mqttString('#'),
      Buffer.from([2]),
    );
    socket.write(Buffer.concat([connect, subscribe]));
    const suback = Buffer.from([0x90, 4, 0, 7, 1, 0x80]);
    await expect.poll(() => Buffer.concat(received).includes(suback), { timeout: 5000 }).toBe(true);
    expect(Buffer.concat(received).subarray(0, 4)).toEqual(Buffer.from([0x20, 2, 0, 0]));
  });

  it('still lets a lab client have QoS 2 (lab mode keeps the plain broker)', async () => {
    const raw = demoRaw();
    raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), lab: true };
    const t = await startHub({ raw, env: { CAREHUB_LAB: '1' } });
    cleanup.push(() => t.stop());
    const lab = mqtt.connect(t.mqttUrl, { clientId: 'lab-1', protocolVersion: 4, reconnectPeriod: 0 });
    cleanup.push(() => lab.endAsync(true));
    await within(new Promise((r) => lab.once('connect', r)), 5000, 'lab connect');
    expect((await lab.subscribeAsync('lab/#', { qos: 2 })).map((g) => g.qos)).toEqual([2]);
    const pendant = await device(t, 'h1-sos');
    expect((await pendant.subscribeAsync(commands('h1-sos'), { qos: 2 })).map((g) => g.qos)).toEqual([1]);
  });
});
