import mqtt, { type MqttClient } from 'mqtt';
import { SimDeviceError } from '../sim-device.js';

export interface SimGatewayOptions {
  url: string;
  /** The gateway's CareHub device id (MQTT client id and user name). */
  id: string;
  secret: string;
  /** Zigbee2MQTT base topic, e.g. `zigbee2mqtt`. */
  baseTopic: string;
  timeoutMs?: number;
}

const ONLINE = JSON.stringify({ state: 'online' });
const OFFLINE = JSON.stringify({ state: 'offline' });

/**
 * A Zigbee2MQTT bridge as the hub sees it: one MQTT connection (the gateway account) with
 * `{base}/bridge/state` as its retained Last Will, publishing each device's whole JSON state on
 * `{base}/{friendlyName}` and availability on `{base}/{friendlyName}/availability`.
 */
export class SimGateway {
  readonly id: string;
  readonly #opts: SimGatewayOptions;
  readonly #timeoutMs: number;
  #client: MqttClient | undefined;

  constructor(options: SimGatewayOptions) {
    this.#opts = options;
    this.id = options.id;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Connect and announce the bridge online (retained), as Zigbee2MQTT does at start. */
  async start(): Promise<void> {
    if (this.#client) throw new Error(`${this.id}: already started`);
    const client = mqtt.connect(this.#opts.url, {
      clientId: this.id,
      username: this.id,
      password: this.#opts.secret,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: this.#timeoutMs,
      will: { topic: this.#topic('bridge/state'), payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    });
    client.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', (err: Error & { code?: number }) =>
          reject(
            new SimDeviceError(
              typeof err.code === 'number' ? 'refused' : 'unreachable',
              `gateway ${this.id}: ${err.message}`,
            ),
          ),
        );
        client.once('close', () =>
          reject(new SimDeviceError('closed', `gateway ${this.id}: connection closed before CONNACK`)),
        );
      });
    } catch (err) {
      await client.endAsync(true);
      throw err;
    }
    this.#client = client;
    await this.bridgeOnline();
  }

  /** `{base}/bridge/state` online, retained: the bridge's own check-in. */
  bridgeOnline(): Promise<void> {
    return this.#publish('bridge/state', ONLINE, true);
  }

  /** A device's whole state, like Zigbee2MQTT publishes it on every report. */
  publishState(friendlyName: string, state: Record<string, unknown>): Promise<void> {
    return this.#publish(friendlyName, JSON.stringify(state), false);
  }

  publishAvailability(friendlyName: string, state: 'online' | 'offline'): Promise<void> {
    return this.#publish(`${friendlyName}/availability`, JSON.stringify({ state }), true);
  }

  /** Any payload on `{base}/{suffix}` (a malformed report the hub must reject). */
  publishRaw(suffix: string, payload: string | Buffer): Promise<void> {
    return this.#publish(suffix, payload, false);
  }

  /**
   * `abrupt`: drop the TCP connection without DISCONNECT, so the broker publishes the Last Will
   * (`bridge/state` offline), as when the bridge loses power. `clean`: announce offline, disconnect.
   */
  async stop(how: 'clean' | 'abrupt' = 'clean'): Promise<void> {
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    if (how === 'abrupt' || !client.connected) {
      await client.endAsync(true);
      return;
    }
    await client.publishAsync(this.#topic('bridge/state'), OFFLINE, { qos: 1, retain: true }).catch(() => {});
    await client.endAsync();
  }

  #topic(suffix: string): string {
    return `${this.#opts.baseTopic}/${suffix}`;
  }

  async #publish(suffix: string, payload: string | Buffer, retain: boolean): Promise<void> {
    const client = this.#client;
    if (!client) throw new SimDeviceError('not_connected', `gateway ${this.id}: not connected`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new SimDeviceError('timeout', `gateway ${this.id}: no PUBACK within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      await Promise.race([client.publishAsync(this.#topic(suffix), payload, { qos: 1, retain }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
