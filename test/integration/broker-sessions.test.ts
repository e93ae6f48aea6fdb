import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { metric, sleep, within } from '../helpers/hub-probe.js';

/**
 * Issue 16, item 2: what a device may receive is decided as strictly as what it may subscribe to,
 * also through a persistent session (clean session off) and its reconnects, and what a session
 * queues for a device is bounded.
 */

const events = (id: string) => `carehub/v1/devices/${id}/events`;
const status = (id: string) => `carehub/v1/devices/${id}/status`;
const commands = (id: string) => `carehub/v1/devices/${id}/commands`;

interface Received {
  topic: string;
  payload: string;
}

/** SUBACK return codes (mqtt.js rejects when one is 0x80; the packet is on the error). */
async function suback(client: MqttClient, topics: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics, { qos })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

describe('broker sessions', () => {
  const cleanup = useCleanup();

  async function hub(raw = demoRaw()): Promise<TestHub> {
    const t = await startHub({ raw });
    cleanup.push(() => t.stop());
    return t;
  }

  /** A demo device with clean session off; every message it receives is recorded from the first byte on. */
  async function persistent(
    t: TestHub,
    id: string,
    got: Received[],
    options: IClientOptions = {},
  ): Promise<{ client: MqttClient; sessionPresent: boolean }> {
    const client = mqtt.connect(t.mqttUrl, {
      clientId: id,
      username: id,
      password: `${id}-demo`,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
    cleanup.push(() => client.endAsync(true));
    const connack = await within(
      new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        client.once('connect', (p) => resolve(p));
        client.once('error', reject);
      }),
      6000,
      `${id} connect`,
    );
    return { client, sessionPresent: connack.sessionPresent };
  }

  it('a persistent session keeps only the granted filters: after a reconnect no other home’s commands or statuses arrive', async () => {
    const t = await hub();
    const got: Received[] = [];
    const first = await persistent(t, 'h1-sos', got);
    expect(
      await suback(first.client, [
        commands('h1-sos'),
        'carehub/v1/devices/+/commands',
        'carehub/v1/devices/+/status',
        '+/status',
        '#',
      ]),
    ).toEqual([1, 128, 128, 128, 128]);
    // the session store holds the granted filter only, at the granted QoS
    // (read through aedes, whose store it is)
    const { persistence: store } = t.hub.broker.aedes as unknown as {
      persistence: {
        subscriptionsByClient(c: { id: string }): Promise<Array<{ topic: string; qos: number }>>;
      };
    };
    expect(
      (await store.subscriptionsByClient({ id: 'h1-sos' })).map((s) => ({ topic: s.topic, qos: s.qos })),
    ).toEqual([{ topic: commands('h1-sos'), qos: 1 }]);
    await first.client.endAsync(); // a clean DISCONNECT: the session stays with the hub

    // Meanwhile another home raises an SOS, staff acknowledge it (the command names them), and its
    // device announces itself on its retained status topic.
    const h2 = await connectDevice(t.mqttUrl, 'h2-sos', { protocolVersion: 4 });
    cleanup.push(() => h2.endAsync(true));
    const h2Got: string[] = [];
    h2.on('message', (_topic, payload) => h2Got.push(payload.toString()));
    await h2.subscribeAsync(commands('h2-sos'), { qos: 1 });
    await h2.publishAsync(status('h2-sos'), '{"state":"online"}', { qos: 1, retain: true });
    await h2.publishAsync(events('h2-sos'), JSON.stringify({ type: 'sos.pressed', id: 'leak-1' }), {
      qos: 1,
    });
    await expect.poll(() => h2Got.length, { timeout: 5000 }).toBe(1);
    const token = await login(t.httpUrl, 'supervisor1');
    const alerts = await api<{ alerts: Array<{ id: string; homeId: string }> }>(
      t.httpUrl,
      token,
      '/api/v1/alerts?homeId=h2',
    );
    const alert = alerts.body.alerts[0];
    expect(alert).toBeDefined();
    expect(
      (await api(t.httpUrl, token, `/api/v1/alerts/${alert?.id}/ack`, { method: 'POST', body: {} })).status,
    ).toBe(200);
    await expect.poll(() => h2Got.length, { timeout: 5000 }).toBe(2);
    expect(h2Got[1]).toContain('alert.acknowledged');

    // The hub also sends h1-sos a command of its own while it is away: that one it must get.
    t.hub.broker.publishCommand('h1-sos', { type: 'checkin.request', requestId: 'own-1' });

    const again = await persistent(t, 'h1-sos', got);
    expect(again.sessionPresent).toBe(true);
    await expect.poll(() => got.length, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    // and one more while connected, as a marker that anything queued before it has been delivered
    t.hub.broker.publishCommand('h1-sos', { type: 'checkin.request', requestId: 'own-2' });
    await expect.poll(() => got.some((m) => m.payload.includes('own-2')), { timeout: 5000 }).toBe(true);
    await sleep(200);
    expect(got.map((m) => m.topic)).toEqual([commands('h1-sos'), commands('h1-sos')]);
    expect(got.map((m) => JSON.parse(m.payload).requestId)).toEqual(['own-1', 'own-2']);
  });

  it('delivers nothing outside a device’s ACL even through a subscription that escaped it (authorizeForward)', async () => {
    const t = await hub();
    const got: Received[] = [];
    const { client } = await persistent(t, 'h1-sos', got, { clean: true });
    expect(await suback(client, [commands('h1-sos')])).toEqual([1]);
    // A subscription made behind the ACL's back, as a bug elsewhere might: straight into aedes' router.
    type Deliver = (packet: unknown, cb: () => void) => void;
    const aedes = t.hub.broker.aedes as unknown as {
      clients: Record<string, { deliverQoS: Deliver }>;
      subscribe(topic: string, fn: Deliver, done: () => void): void;
    };
    const h1 = aedes.clients['h1-sos'];
    expect(h1).toBeDefined();
    await new Promise<void>((resolve) =>
      aedes.subscribe('carehub/v1/devices/#', (packet, cb) => h1?.deliverQoS(packet, cb), resolve),
    );
    const before = await metric(t, 'carehub_mqtt_messages_dropped_total', { reason: 'not_authorised' });
    t.hub.broker.publishCommand('h2-sos', { type: 'alert.acknowledged', alertId: 'a-h2', by: 'Staff Name' });
    t.hub.broker.publishCommand('h3-sos', { type: 'alert.received', alertId: 'a-h3' });
    t.hub.broker.publishCommand('h1-sos', { type: 'alert.received', alertId: 'a-h1' });
    await expect.poll(() => got.length, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    await sleep(200);
    expect(got.map((m) => m.topic)).toEqual([commands('h1-sos')]);
    expect(JSON.parse(got[0]?.payload ?? '{}')).toMatchObject({ alertId: 'a-h1' });
    expect(await metric(t, 'carehub_mqtt_messages_dropped_total', { reason: 'not_authorised' })).toBe(
      before + 2,
    );
  });

  it('holds at most mqtt.limits.maxQueuedPerClient messages for a device that is away, the newest, and counts the rest', async () => {
    const raw = demoRaw();
    raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), limits: { maxQueuedPerClient: 5 } };
    const t = await hub(raw);
    const got: Received[] = [];
    const first = await persistent(t, 'h1-sos', got);
    expect(await suback(first.client, [commands('h1-sos')])).toEqual([1]);
    await first.client.endAsync();
    const before = await metric(t, 'carehub_mqtt_messages_dropped_total', { reason: 'queue_full' });
    for (let i = 1; i <= 12; i++)
      t.hub.broker.publishCommand('h1-sos', { type: 'checkin.request', requestId: `q${i}` });
    await expect
      .poll(() => metric(t, 'carehub_mqtt_messages_dropped_total', { reason: 'queue_full' }), {
        timeout: 3000,
      })
      .toBe(before + 7);
    const store = t.hub.broker.sessions;
    expect(store.queued('h1-sos')).toBe(5);

    const again = await persistent(t, 'h1-sos', got);
    expect(again.sessionPresent).toBe(true);
    await expect.poll(() => got.length, { timeout: 5000 }).toBe(5);
    await sleep(200);
    expect(got.map((m) => JSON.parse(m.payload).requestId)).toEqual(['q8', 'q9', 'q10', 'q11', 'q12']);
    // acknowledged: nothing left held for it
    await expect.poll(() => store.queued('h1-sos'), { timeout: 3000 }).toBe(0);
  });
});
