import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { FeedClient, type FeedMessage } from '../helpers/feed-client.js';
import { api, login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Devices reach the hub through a TCP fault proxy (test/helpers/fault-proxy.ts): latency, resets
 * mid-packet both ways, a blackhole and a half-open link. They reconnect by themselves (mqtt.js),
 * unacknowledged QoS 1 presses are redelivered, and duty staff on the feed see one alert per home
 * whose occurrences equal the distinct presses: never a duplicate.
 */

interface Alert {
  id: string;
  kind: string;
  homeId: string;
  version: number;
  occurrences: number;
}

const DEVICES = ['h1-sos', 'h2-sos', 'h3-sos'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Pendant {
  readonly pressed = new Set<string>();
  readonly acked = new Set<string>();
  /** How often each press went out on the wire (more than once: redelivered). */
  readonly sends = new Map<string, number>();
  reconnects = 0;
  #n = 0;

  constructor(
    readonly id: string,
    readonly client: MqttClient,
  ) {
    client.on('reconnect', () => this.reconnects++);
    client.on('error', () => {});
    client.on('packetsend', (packet) => {
      if (packet.cmd !== 'publish') return;
      const key = `mid:${packet.messageId}:${String(packet.payload)}`;
      this.sends.set(key, (this.sends.get(key) ?? 0) + 1);
    });
  }

  /** A press at QoS 1; `withId: false` leaves out the event id (redeliveries are then matched by message id). */
  press(withId = true): void {
    const id = `${this.id}.${++this.#n}`;
    this.pressed.add(id);
    const payload = JSON.stringify(
      withId ? { type: 'sos.pressed', id } : { type: 'sos.pressed', seqNo: this.#n },
    );
    this.client.publish(`carehub/v1/devices/${this.id}/events`, payload, { qos: 1 }, (err) => {
      if (!err) this.acked.add(id);
    });
  }

  get redelivered(): number {
    return [...this.sends.values()].filter((n) => n > 1).length;
  }
}

describe('network faults', () => {
  const cleanup = useCleanup();

  it('devices reconnect through latency, resets mid-packet, a blackhole and a half-open link; QoS 1 is redelivered; no duplicate alert', {
    timeout: 90_000,
  }, async () => {
    const t: TestHub = await startHub();
    cleanup.push(() => t.stop());
    const proxy = await FaultProxy.start(t.hub.ports.mqtt);
    cleanup.push(() => proxy.stop());
    const token = await login(t.httpUrl, 'supervisor1');
    const feed = await FeedClient.connect(t.wsUrl, token);
    cleanup.push(() => feed.close());

    const pendants = await Promise.all(
      DEVICES.map(async (id) => {
        const client = mqtt.connect(`mqtt://127.0.0.1:${proxy.port}`, {
          clientId: id,
          username: id,
          password: `${id}-demo`,
          protocolVersion: 4,
          keepalive: 1,
          reconnectPeriod: 250,
          connectTimeout: 1500,
        });
        cleanup.push(() => client.endAsync(true));
        await new Promise<void>((resolve) => client.once('connect', () => resolve()));
        return new Pendant(id, client);
      }),
    );
    const all = (fn: (p: Pendant) => void) => {
      for (const p of pendants) fn(p);
    };
    const settled = () => pendants.every((p) => p.acked.size === p.pressed.size);

    // 1. latency: 250 ms each way
    proxy.latency(250);
    all((p) => p.press());
    all((p) => p.press());
    await expect.poll(settled, { timeout: 10_000 }).toBe(true);
    proxy.latency(0);

    // 2. resets mid-packet: a PUBLISH cut on its way up, then answers cut on their way down
    for (const direction of ['up', 'down', 'down', 'up'] as const) {
      proxy.resetMidPacket(direction);
      all((p) => p.press());
      (pendants[2] as Pendant).press(false); // one without an event id: matched by message id and DUP
      await expect.poll(settled, { timeout: 10_000 }).toBe(true);
    }

    // 3. a blackhole for 3 s: presses go nowhere, keepalives fail, reconnects hang; then the link returns
    proxy.blackhole(true);
    all((p) => p.press());
    await sleep(3000);
    expect(settled()).toBe(false);
    proxy.blackhole(false);
    await expect.poll(settled, { timeout: 15_000 }).toBe(true);

    // 4. a half-open link: silent both ways and no FIN or RST ever crosses; only keepalives find out
    proxy.halfOpen();
    all((p) => p.press());
    await expect.poll(settled, { timeout: 15_000 }).toBe(true);

    // 5. everything reset twice in a row
    all((p) => p.press());
    proxy.resetAll();
    await sleep(400);
    all((p) => p.press());
    proxy.resetAll();
    await expect.poll(settled, { timeout: 10_000 }).toBe(true);

    // what staff see: one alert per home, occurrences = distinct presses, versions only rising
    const presses = new Map(pendants.map((p) => [p.id.replace('-sos', ''), p.pressed.size]));
    await expect
      .poll(
        async () => {
          const res = await api<{ alerts: Alert[] }>(t.httpUrl, token, '/api/v1/alerts?kind=sos');
          return Object.fromEntries(res.body.alerts.map((a) => [a.homeId, a.occurrences]));
        },
        { timeout: 5000 },
      )
      .toEqual(Object.fromEntries(presses));
    const seen = feed.messages.filter((m): m is FeedMessage & { alert: Alert } => m.type === 'alert');
    const byHome = new Map<string, Set<string>>();
    const last = new Map<string, Alert>();
    const problems: string[] = [];
    for (const m of seen) {
      byHome.set(m.alert.homeId, (byHome.get(m.alert.homeId) ?? new Set()).add(m.alert.id));
      const prev = last.get(m.alert.id);
      if (prev && m.alert.version <= prev.version)
        problems.push(`${m.alert.id}: version ${m.alert.version} after ${prev.version}`);
      last.set(m.alert.id, m.alert);
    }
    expect(problems).toEqual([]);
    expect([...byHome.values()].map((ids) => ids.size)).toEqual([1, 1, 1]);
    for (const a of last.values()) expect(a.occurrences).toBe(presses.get(a.homeId));
    expect(new Set(seen.map((m) => m.seq)).size).toBe(seen.length);

    // redeliveries the hub had already stored were merged, not counted again
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    const merged = Number(/^carehub_ingest_duplicates_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    const reconnects = pendants.reduce((n, p) => n + p.reconnects, 0);
    const redelivered = pendants.reduce((n, p) => n + p.redelivered, 0);
    const total = [...presses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `network faults: ${total} presses, ${reconnects} reconnects, ${redelivered} presses redelivered (${merged} already stored: merged), ` +
        `${proxy.stats.resets} resets, ${proxy.stats.halfOpened} links half-open, ${proxy.stats.swallowed} bytes swallowed; 0 lost, 0 duplicate alerts`,
    );
    expect(reconnects).toBeGreaterThanOrEqual(DEVICES.length * 3);
    expect(redelivered).toBeGreaterThan(0);
    expect(merged).toBeGreaterThan(0);
    expect(proxy.stats.resets).toBeGreaterThanOrEqual(4);
    expect(proxy.stats.halfOpened).toBeGreaterThanOrEqual(DEVICES.length);
  });
});
