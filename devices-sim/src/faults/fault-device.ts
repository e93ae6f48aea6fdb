import mqtt, { type IStore, type MqttClient } from 'mqtt';
import { deviceTopics } from '../../../hub/src/protocol/topics.js';
import type { DeviceCommand } from '../sim-device.js';

export interface FaultDeviceOptions {
  host: string;
  port: number;
  id: string;
  secret: string;
  /** false: a persistent session, so QoS 1 messages on both sides survive a lost connection. */
  clean: boolean;
  /** Reconnect after a lost connection this soon. */
  reconnectMs: number;
  /** Announce online (retained) on every connect, offline as the Last Will. */
  announce?: boolean;
  outgoingStore?: IStore;
}

/**
 * A device client for fault drills: plain mqtt.js with a persistent session and automatic
 * reconnects, so the library's own resend of unacknowledged QoS 1 messages is what is tested.
 */
export class FaultDevice {
  readonly commands: DeviceCommand[] = [];
  readonly topics: ReturnType<typeof deviceTopics>;
  connects = 0;
  /** CONNACK session-present flags, one per connect. */
  readonly sessionPresent: boolean[] = [];

  private constructor(
    readonly client: MqttClient,
    readonly id: string,
  ) {
    this.topics = deviceTopics(id);
  }

  static async connect(o: FaultDeviceOptions, timeoutMs = 10_000): Promise<FaultDevice> {
    const topics = deviceTopics(o.id);
    const client = mqtt.connect(`mqtt://${o.host}:${o.port}`, {
      clientId: o.id,
      username: o.id,
      password: o.secret,
      protocolVersion: 4,
      clean: o.clean,
      reconnectPeriod: o.reconnectMs,
      connectTimeout: timeoutMs,
      ...(o.outgoingStore ? { outgoingStore: o.outgoingStore } : {}),
      ...(o.announce
        ? {
            will: { topic: topics.status, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
          }
        : {}),
    });
    const device = new FaultDevice(client, o.id);
    client.on('error', () => {});
    client.on('connect', (connack) => {
      device.connects++;
      device.sessionPresent.push(connack.sessionPresent);
      if (o.announce) client.publish(topics.status, '{"state":"online"}', { qos: 1, retain: true });
    });
    client.on('message', (topic, payload) => {
      if (topic !== topics.commands) return;
      try {
        device.commands.push(JSON.parse(payload.toString('utf8')) as DeviceCommand);
      } catch {
        // not for us
      }
    });
    await within(
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      }),
      timeoutMs,
      `${o.id}: no CONNACK`,
    );
    await within(client.subscribeAsync(topics.commands, { qos: 1 }), timeoutMs, `${o.id}: no SUBACK`);
    return device;
  }

  /** Publish on the events topic at QoS 1; resolves on the PUBACK, however many connections that takes. */
  publishEvent(payload: string | Buffer, timeoutMs = 15_000): Promise<unknown> {
    return within(
      this.client.publishAsync(this.topics.events, payload, { qos: 1 }),
      timeoutMs,
      `${this.id}: no PUBACK`,
    );
  }

  /** Wait for a hub command matching `pred` (already received or still to come). */
  async command(pred: (c: DeviceCommand) => boolean, timeoutMs = 5000): Promise<DeviceCommand | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.commands.find(pred);
      if (found || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves on the next CONNACK (after a lost connection). */
  reconnected(timeoutMs = 10_000): Promise<void> {
    return within(
      new Promise<void>((resolve) => this.client.once('connect', () => resolve())),
      timeoutMs,
      `${this.id}: did not reconnect`,
    );
  }

  /** Drop the TCP connection without DISCONNECT (the broker fires the Last Will; the client reconnects). */
  dropConnection(): void {
    this.client.stream.destroy();
  }

  /** Leave with a DISCONNECT (no Last Will): the device stays what it last said it was. */
  async close(): Promise<void> {
    await this.client.endAsync(false).catch(() => {});
  }
}

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
