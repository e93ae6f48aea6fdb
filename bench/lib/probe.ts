import { connect as netConnect } from 'node:net';
import { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { eventIdSource } from '../../devices-sim/src/event-ids.js';
import type { EventType } from '../../hub/src/protocol/events.js';
import { deviceTopics } from '../../hub/src/protocol/topics.js';
import { SINK_PASSWORD, SINK_USER } from './mosquitto.js';
import { monoMs, sleep } from './proc.js';
import { homeOfDevice } from './site.js';

/** Where a press shows up: the hub's duty feed, or (reference) a Mosquitto subscriber. */
export interface Watcher {
  /** The key under which the receipt of the next `kind` event from this device will be reported. */
  keyFor(kind: string, deviceId: string, eventId: string): string;
  wait(key: string, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

class Waiters {
  readonly #seen = new Map<string, number>();
  readonly #waiting = new Map<string, (at: number) => void>();
  arrived(key: string, at: number): void {
    const w = this.#waiting.get(key);
    if (w) {
      this.#waiting.delete(key);
      w(at);
    } else if (!this.#seen.has(key)) {
      this.#seen.set(key, at);
      if (this.#seen.size > 10_000) this.#seen.clear();
    }
  }
  wait(key: string, timeoutMs: number): Promise<number> {
    const seen = this.#seen.get(key);
    if (seen !== undefined) {
      this.#seen.delete(key);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new Error(`no receipt for ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(key, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}

export async function login(httpUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${httpUrl}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

interface AlertMsg {
  kind: string;
  homeId: string;
  occurrences: number;
}

/**
 * A duty-staff feed client. An alert message counts as the receipt of a press when its occurrences
 * go past what this client last saw for that alert (raise = 1, every repeat +1), so escalation
 * updates never count as a receipt.
 */
export class FeedWatcher implements Watcher {
  readonly #occ = new Map<string, number>();
  readonly #expected = new Map<string, number>();
  readonly #waiters = new Waiters();
  alertMessages = 0;
  messages = 0;

  private constructor(readonly ws: WebSocket) {}

  static async connect(wsUrl: string, token: string): Promise<FeedWatcher> {
    const ws = new WebSocket(`${wsUrl}/api/v1/feed`, { headers: { authorization: `Bearer ${token}` } });
    const w = new FeedWatcher(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no feed snapshot within 30 s')), 30_000);
      ws.on('error', reject);
      ws.on('message', (raw) => {
        const at = monoMs();
        w.messages++;
        const m = JSON.parse(String(raw)) as { type: string; alerts?: AlertMsg[]; alert?: AlertMsg };
        if (m.type === 'snapshot') {
          for (const a of m.alerts ?? []) w.#occ.set(`${a.kind}:${a.homeId}`, a.occurrences);
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'alert' && m.alert) {
          w.alertMessages++;
          const k = `${m.alert.kind}:${m.alert.homeId}`;
          const last = w.#occ.get(k) ?? 0;
          if (m.alert.occurrences > last) {
            w.#occ.set(k, m.alert.occurrences);
            for (let o = last + 1; o <= m.alert.occurrences; o++) w.#waiters.arrived(`${k}:${o}`, at);
          }
        }
      });
    });
    return w;
  }

  keyFor(kind: string, deviceId: string): string {
    const k = `${kind}:${homeOfDevice(deviceId)}`;
    const next = Math.max(this.#occ.get(k) ?? 0, this.#expected.get(k) ?? 0) + 1;
    this.#expected.set(k, next);
    return `${k}:${next}`;
  }

  wait(key: string, timeoutMs: number): Promise<number> {
    return this.#waiters.wait(key, timeoutMs);
  }

  async close(): Promise<void> {
    this.ws.terminate();
  }
}

/** Reference receiver: a Mosquitto subscriber to the given devices' event topics (receipt by event id). */
export class MqttWatcher implements Watcher {
  readonly #waiters = new Waiters();
  private constructor(readonly client: MqttClient) {}

  static async connect(port: number, deviceIds: readonly string[]): Promise<MqttWatcher> {
    const client = new MqttClient(() => netConnect({ host: '127.0.0.1', port }), {
      clientId: `${SINK_USER}-probe-${process.pid}`,
      username: SINK_USER,
      password: SINK_PASSWORD,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    const w = new MqttWatcher(client);
    client.on('message', (_t, payload) => {
      const at = monoMs();
      const id = (JSON.parse(payload.toString('utf8')) as { id?: string }).id;
      if (id) w.#waiters.arrived(id, at);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(
      deviceIds.map((id) => deviceTopics(id).events),
      { qos: 1 },
    );
    return w;
  }

  keyFor(_kind: string, _deviceId: string, eventId: string): string {
    return eventId;
  }
  wait(key: string, timeoutMs: number): Promise<number> {
    return this.#waiters.wait(key, timeoutMs);
  }
  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

interface Pub {
  id: string;
  client: MqttClient;
  nextId: () => string;
}

/** A few devices in the runner process that publish the measured events (SOS presses, smoke). */
export class Publishers {
  private constructor(readonly devs: Pub[]) {}

  static async connect(
    port: number,
    ids: readonly string[],
    secret: string,
    localAddress = '127.0.0.2',
  ): Promise<Publishers> {
    const devs = await Promise.all(
      ids.map(async (id) => {
        const client = new MqttClient(() => netConnect({ host: '127.0.0.1', port, localAddress }), {
          clientId: id,
          username: id,
          password: secret,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 60_000,
        });
        client.on('error', () => {});
        await new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
        });
        await client.subscribeAsync(deviceTopics(id).commands, { qos: 1 });
        return { id, client, nextId: eventIdSource() };
      }),
    );
    return new Publishers(devs);
  }

  /** Publish one event (QoS 1) now; resolves with the event id and the mono time just before sending. */
  send(index: number, type: EventType): { eventId: string; at: number; acked: Promise<void> } {
    const d = this.devs[index % this.devs.length] as Pub;
    const eventId = d.nextId();
    const payload = JSON.stringify({ type, id: eventId, ts: new Date().toISOString() });
    const at = monoMs();
    const acked = d.client.publishAsync(deviceTopics(d.id).events, payload, { qos: 1 }).then(() => undefined);
    return { eventId, at, acked };
  }

  async close(): Promise<void> {
    await Promise.all(this.devs.map((d) => d.client.endAsync(true)));
  }
}

export interface ProbeResult {
  latencies: number[];
  lost: number;
  presses: number;
}

/**
 * SOS presses every `everyMs` from the probe devices in turn (a device with a press still in flight
 * is skipped), each timed from just before the publish to its receipt by the watcher.
 */
export async function probeSos(
  pubs: Publishers,
  watcher: Watcher,
  durationMs: number,
  everyMs: number,
  timeoutMs = 10_000,
): Promise<ProbeResult> {
  const result: ProbeResult = { latencies: [], lost: 0, presses: 0 };
  const busy = new Set<number>();
  const inflight: Promise<void>[] = [];
  const end = monoMs() + durationMs;
  let i = 0;
  while (monoMs() < end) {
    const index = i++ % pubs.devs.length;
    if (!busy.has(index)) {
      busy.add(index);
      const dev = pubs.devs[index] as Pub;
      // The key must be taken before the publish: the receipt may arrive before send() returns.
      const sent = pubs.send(index, 'sos.pressed');
      const key = watcher.keyFor('sos', dev.id, sent.eventId);
      result.presses++;
      sent.acked.catch(() => {});
      inflight.push(
        watcher.wait(key, timeoutMs).then(
          (at) => {
            result.latencies.push(at - sent.at);
            busy.delete(index);
          },
          () => {
            result.lost++;
            busy.delete(index);
          },
        ),
      );
    }
    await sleep(everyMs * (0.5 + Math.random()));
  }
  await Promise.all(inflight);
  return result;
}
