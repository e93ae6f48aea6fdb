import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import {
  api,
  connectDevice,
  DEMO_DEVICE_IDS,
  demoRaw,
  login,
  startHub,
  type TestHub,
} from '../helpers/hub.js';
import { connectOf } from '../helpers/mqtt-fuzz-cases.js';

/** mqtt.limits (docs/security.md): rate limit with its life-safety bypass, flapping bans, connection, queue and inflight caps, slow-subscriber cut. */

interface LogLine {
  msg?: string;
  reason?: string;
  [k: string]: unknown;
}

const events = (id: string) => `carehub/v1/devices/${id}/events`;
const commands = (id: string) => `carehub/v1/devices/${id}/commands`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const creds = (id: string) => ({ clientId: id, username: id, password: `${id}-demo` });

async function metric(t: TestHub, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const key = sel ? `${name}{${sel}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

describe('broker limits', () => {
  const cleanup = useCleanup();

  async function hub(limits: Record<string, unknown>): Promise<{ t: TestHub; lines: LogLine[] }> {
    const raw = demoRaw();
    raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), limits };
    const lines: LogLine[] = [];
    const stream = {
      write(s: string) {
        for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      },
    };
    const t = await startHub({ raw, logger: createLogger('info', stream) });
    cleanup.push(() => t.stop());
    return { t, lines };
  }

  async function device(t: TestHub, id: string): Promise<MqttClient> {
    const c = await connectDevice(t.mqttUrl, id, { protocolVersion: 4 });
    cleanup.push(() => c.endAsync(true));
    return c;
  }

  /** Connect and expect a CONNACK refusal: its return code. */
  function refusedCode(t: TestHub, id: string, password = `${id}-demo`): Promise<number | undefined> {
    const c = mqtt.connect(t.mqttUrl, {
      clientId: id,
      username: id,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    cleanup.push(() => c.endAsync(true));
    return within(
      new Promise((resolve, reject) => {
        c.once('connect', () => reject(new Error(`${id} was accepted`)));
        c.once('error', (err: Error & { code?: number }) => resolve(err.code));
      }),
      6000,
      'refusal',
    );
  }

  async function rawSocket(t: TestHub): Promise<Socket> {
    const s = netConnect({ host: '127.0.0.1', port: t.hub.ports.mqtt });
    s.on('error', () => {});
    cleanup.push(() => s.destroy());
    await within(new Promise((r) => s.once('connect', r)), 5000, 'tcp connect');
    return s;
  }

  const closed = (s: Socket, ms: number) =>
    s.destroyed
      ? Promise.resolve()
      : within(new Promise<void>((r) => s.once('close', () => r())), ms, 'socket close');

  function journalCount(t: TestHub, deviceId: string, type: string): number {
    const db = new Database(join(t.dataDir, 'hub.db'), { readonly: true });
    try {
      return (
        db
          .prepare('SELECT count(*) AS n FROM journal WHERE device_id = ? AND type = ?')
          .get(deviceId, type) as { n: number }
      ).n;
    } finally {
      db.close();
    }
  }

  it('rate-limits a device (acknowledged, dropped, counted as rate_limited) but never drops sos.pressed or smoke.detected', async () => {
    const { t, lines } = await hub({ publishPerSecond: 1, publishBurst: 5 });
    const sos = await device(t, 'h1-sos');
    const smoke = await device(t, 'h1-smoke');
    // 20 heartbeats at once: every one is PUBACKed, about the burst of them is kept
    await within(
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          sos.publishAsync(events('h1-sos'), JSON.stringify({ type: 'heartbeat', id: `hb-${i}` }), {
            qos: 1,
          }),
        ),
      ),
      5000,
      'PUBACKs of heartbeats',
    );
    expect(sos.connected).toBe(true);
    const dropped = await metric(t, 'carehub_ingest_rejected_total', { reason: 'rate_limited' });
    expect(dropped).toBeGreaterThanOrEqual(13);
    expect(journalCount(t, 'h1-sos', 'heartbeat')).toBe(20 - dropped);
    expect(lines.some((l) => l.msg === 'publish dropped: rate limited' && l.client === 'h1-sos')).toBe(true);

    // over the limit, every SOS press and every fire still goes through
    await within(
      Promise.all([
        ...Array.from({ length: 40 }, (_, i) =>
          sos.publishAsync(events('h1-sos'), JSON.stringify({ type: 'sos.pressed', id: `p-${i}` }), {
            qos: 1,
          }),
        ),
        ...Array.from({ length: 10 }, (_, i) =>
          smoke.publishAsync(events('h1-smoke'), JSON.stringify({ type: 'heartbeat', id: `s-hb-${i}` }), {
            qos: 1,
          }),
        ),
        ...Array.from({ length: 5 }, (_, i) =>
          smoke.publishAsync(events('h1-smoke'), JSON.stringify({ type: 'smoke.detected', id: `f-${i}` }), {
            qos: 1,
          }),
        ),
      ]),
      10_000,
      'PUBACKs',
    );
    expect(journalCount(t, 'h1-sos', 'sos.pressed')).toBe(40);
    expect(journalCount(t, 'h1-smoke', 'smoke.detected')).toBe(5);
    expect(journalCount(t, 'h1-smoke', 'heartbeat')).toBeLessThanOrEqual(6);
    expect(
      await metric(t, 'carehub_mqtt_rate_limit_bypass_total', { kind: 'device' }),
    ).toBeGreaterThanOrEqual(40);
    const token = await login(t.httpUrl, 'supervisor1');
    await expect
      .poll(
        async () =>
          (
            await api<{ alerts: Array<{ kind: string; occurrences: number }> }>(
              t.httpUrl,
              token,
              '/api/v1/alerts?kind=sos',
            )
          ).body.alerts[0]?.occurrences,
        {
          timeout: 5000,
        },
      )
      .toBe(40);
  });

  it('bans a flapping client id for a while (CONNACK 3), logged and counted; failed logins never ban a device', async () => {
    const { t, lines } = await hub({
      flapMaxConnectsPerClient: 3,
      flapWindowMs: 60_000,
      flapBanMs: 2000,
      flapMaxConnectsPerAddress: 1000,
    });
    // someone without the secret hammering h3-sos does not get h3-sos banned
    for (let i = 0; i < 6; i++) expect(await refusedCode(t, 'h3-sos', 'wrong-secret')).toBe(4);
    const h3 = await device(t, 'h3-sos');
    await h3.endAsync();

    for (let i = 0; i < 3; i++) {
      const c = await device(t, 'h2-sos');
      await c.endAsync();
    }
    expect(await refusedCode(t, 'h2-sos')).toBe(3);
    expect(await refusedCode(t, 'h2-sos')).toBe(3);
    expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'flapping' })).toBe(2);
    expect(
      lines.filter((l) => l.msg === 'mqtt client flapping: banned' && l.client === 'h2-sos'),
    ).toHaveLength(1);
    // others are served meanwhile
    const other = await device(t, 'h1-sos');
    expect(other.connected).toBe(true);
    // and the ban ends
    await sleep(2100);
    const back = await device(t, 'h2-sos');
    expect(back.connected).toBe(true);
  });

  it('bans an address whose connections do not authenticate, but never one whose devices do', async () => {
    const { t, lines } = await hub({
      flapMaxConnectsPerAddress: 5,
      flapMaxConnectsPerClient: 0,
      flapBanMs: 1500,
    });
    // 20 good connects from 127.0.0.1: all served (connections that authenticate are not counted)
    for (let i = 0; i < 20; i++) {
      const c = await device(t, ['h1-sos', 'h2-sos', 'h3-sos', 'h1-door'][i % 4] as string);
      await c.endAsync();
    }
    // junk connections are closed by the frame guard and counted when they end; the 6th passes the
    // limit of 5 and bans the address, so the next connection from it is refused at once
    for (let i = 0; i < 6; i++) {
      const s = await rawSocket(t);
      s.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await closed(s, 3000);
    }
    const s = await rawSocket(t);
    await closed(s, 1000);
    expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'address_banned' })).toBe(1);
    expect(
      lines.some((l) => l.msg === 'mqtt address banned: too many connections that did not authenticate'),
    ).toBe(true);
    // even a device with the right secret is refused from that address during the ban …
    const during = mqtt.connect(t.mqttUrl, {
      ...creds('h1-sos'),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 2000,
    });
    cleanup.push(() => during.endAsync(true));
    await within(new Promise<void>((r) => during.once('close', () => r())), 3000, 'refusal during the ban');
    expect(during.connected).toBe(false);
    // … and served after it
    await sleep(1600);
    const after = await device(t, 'h1-sos');
    expect(after.connected).toBe(true);
  });

  it('a reconnect storm from one address is never banned while its devices are still logging in', async () => {
    const { t } = await hub({ flapMaxConnectsPerAddress: 5, flapMaxConnectsPerClient: 0 });
    const ids = DEMO_DEVICE_IDS;
    const clients = await Promise.all(ids.map((id) => device(t, id)));
    expect(clients.every((c) => c.connected)).toBe(true);
    expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'address_banned' })).toBe(0);
    await Promise.all(clients.map((c) => c.endAsync()));
  });

  it('refuses connections past maxConnections at once, and serves again when one closes', async () => {
    const { t } = await hub({ maxConnections: 5 });
    const open = [];
    for (let i = 0; i < 5; i++) open.push(await rawSocket(t));
    const sixth = await rawSocket(t);
    await closed(sixth, 1000);
    expect(await metric(t, 'carehub_mqtt_connections_refused_total', { reason: 'max_connections' })).toBe(1);
    for (const s of open) expect(s.destroyed).toBe(false);
    (open[0] as Socket).destroy();
    await sleep(100);
    const c = await device(t, 'h1-sos');
    expect(c.connected).toBe(true);
  });

  it('closes a client that pipelines more than queueLimit packets behind its CONNECT (and not under it)', async () => {
    const { t, lines } = await hub({ queueLimit: 3 });
    const pings = Buffer.alloc(20, 0);
    for (let i = 0; i < 10; i++) pings.set([0xc0, 0x00], i * 2);
    const s = await rawSocket(t);
    s.write(Buffer.concat([connectOf(creds('h1-sos')), pings]));
    await closed(s, 3000);
    await expect
      .poll(
        () => lines.some((l) => l.msg === 'mqtt connection closed' && /queue limit/.test(String(l.reason))),
        { timeout: 2000 },
      )
      .toBe(true);

    const ok = await rawSocket(t);
    const got: Buffer[] = [];
    ok.on('data', (d: Buffer) => got.push(d));
    ok.write(Buffer.concat([connectOf(creds('h1-door')), pings.subarray(0, 4)]));
    await expect.poll(() => Buffer.concat(got).length, { timeout: 3000 }).toBe(4 + 2 * 2); // CONNACK + 2 PINGRESP
    expect(ok.destroyed).toBe(false);
  });

  it('closes a client with more than maxInflightInbound QoS 2 publishes awaiting PUBREL', async () => {
    const { t, lines } = await hub({ maxInflightInbound: 3 });
    const s = await rawSocket(t);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.write(connectOf(creds('h1-door')));
    await expect.poll(() => Buffer.concat(got).length, { timeout: 3000 }).toBeGreaterThanOrEqual(4);
    for (let mid = 1; mid <= 3; mid++) {
      s.write(
        generate({
          cmd: 'publish',
          topic: events('h1-door'),
          payload: Buffer.from(JSON.stringify({ type: 'heartbeat', id: `q2-${mid}` })),
          qos: 2,
          dup: false,
          retain: false,
          messageId: mid,
        }),
      );
    }
    await expect.poll(() => Buffer.concat(got).length, { timeout: 3000 }).toBe(4 + 3 * 4); // three PUBRECs
    expect(s.destroyed).toBe(false);
    s.write(
      generate({
        cmd: 'publish',
        topic: events('h1-door'),
        payload: Buffer.from('{"type":"heartbeat","id":"q2-4"}'),
        qos: 2,
        dup: false,
        retain: false,
        messageId: 4,
      }),
    );
    await closed(s, 3000);
    await expect
      .poll(
        () =>
          lines.some(
            (l) => l.msg === 'mqtt connection closed' && /maxInflightInbound/.test(String(l.reason)),
          ),
        { timeout: 2000 },
      )
      .toBe(true);
  });

  it('cuts a subscriber that stops reading after drainTimeoutMs; other devices carry on', async () => {
    const { t, lines } = await hub({ drainTimeoutMs: 500 });
    const other = await device(t, 'h2-sos');
    const s = await rawSocket(t);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.write(
      Buffer.concat([
        connectOf(creds('h1-sos')),
        generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: commands('h1-sos'), qos: 1 }] }),
      ]),
    );
    await expect.poll(() => Buffer.concat(got).length, { timeout: 3000 }).toBeGreaterThanOrEqual(4 + 5); // CONNACK + SUBACK
    s.pause(); // a frozen device: it never reads again
    const start = Date.now();
    for (let i = 0; i < 300; i++)
      t.hub.broker.publishCommand('h1-sos', {
        type: 'alert.received',
        alertId: `a-${i}`,
        pad: 'x'.repeat(60_000),
      });
    await expect
      .poll(
        () =>
          lines.some(
            (l) =>
              l.msg === 'mqtt connection closed' &&
              l.client === 'h1-sos' &&
              /drain timeout/.test(String(l.reason)),
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(Date.now() - start).toBeGreaterThanOrEqual(450);
    await expect.poll(() => t.hub.broker.aedes.connectedClients, { timeout: 3000 }).toBe(1);
    await within(
      other.publishAsync(events('h2-sos'), JSON.stringify({ type: 'sos.pressed', id: 'while-frozen' }), {
        qos: 1,
      }),
      5000,
      'PUBACK',
    );
  });
});
