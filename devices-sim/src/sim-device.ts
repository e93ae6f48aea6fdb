import mqtt, { type MqttClient } from 'mqtt';
import type { EventType } from '../../hub/src/protocol/events.js';
import { deviceTopics } from '../../hub/src/protocol/topics.js';
import { eventIdSource } from './event-ids.js';

/** A hub → device message (PROTOCOL.md §1: alert.received, alert.acknowledged, alert.resolved, checkin.request). */
export interface DeviceCommand {
  type: string;
  alertId?: string;
  by?: string;
  [key: string]: unknown;
}

export interface SentEvent {
  type: EventType;
  id: string;
  ts: string;
  battery?: number;
  batteryLow?: boolean;
  rssi?: number;
  requestId?: string;
}

export interface EventExtras {
  battery?: number;
  batteryLow?: boolean;
  rssi?: number;
  /** `checkin`: the request it answers. */
  requestId?: string;
}

export interface SimDeviceOptions {
  /** Hub MQTT address, e.g. mqtt://127.0.0.1:1883 or ws://127.0.0.1:8080/mqtt. */
  url: string;
  id: string;
  secret: string;
  /**
   * Behave as an installed device: retained online status on every connect and an offline Last
   * Will. Off for one-shot use (the CLI), which must not make the hub think the device left.
   */
  announce?: boolean;
  /** Heartbeat interval; 0 (the default) sends none. */
  heartbeatMs?: number;
  /** Battery level (0-100) carried by heartbeats. */
  battery?: number;
  rssi?: number;
  /** Reconnect after a lost connection; 0 (the default) gives up, so a refusal surfaces as an error. */
  reconnectMs?: number;
  /** How long to wait for the CONNACK, a SUBACK or a PUBACK. */
  timeoutMs?: number;
  /** The device's own clock, for the informational `ts` of its events (default: the system clock). */
  now?: () => number;
  onCommand?: (command: DeviceCommand) => void;
  /** Called when a background send (a heartbeat, a re-announce) fails. */
  onError?: (err: Error) => void;
}

export type SimDeviceErrorCode =
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'closed'
  | 'not_connected'
  | 'subscribe_refused';

export class SimDeviceError extends Error {
  constructor(
    readonly code: SimDeviceErrorCode,
    message: string,
    readonly returnCode?: number,
  ) {
    super(message);
    this.name = 'SimDeviceError';
  }
}

const ONLINE = JSON.stringify({ state: 'online' });
const OFFLINE = JSON.stringify({ state: 'offline' });

/** One simulated device speaking the CareHub device protocol over a real MQTT connection. */
export class SimDevice {
  readonly id: string;
  readonly commands: DeviceCommand[] = [];
  /** The last event sent, for a deliberate duplicate (same id) in drills. */
  lastSent: SentEvent | undefined;
  /** Check-in requests heard (the device beeps for each): the last one is what a check-in press answers. */
  readonly beeps: DeviceCommand[] = [];
  battery: number | undefined;
  rssi: number | undefined;
  readonly #opts: SimDeviceOptions;
  readonly #topics: ReturnType<typeof deviceTopics>;
  readonly #nextId = eventIdSource();
  readonly #timeoutMs: number;
  #client: MqttClient | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #waiters: Array<{ pred: (c: DeviceCommand) => boolean; resolve: (c: DeviceCommand) => void }> = [];

  constructor(options: SimDeviceOptions) {
    this.#opts = options;
    this.id = options.id;
    this.battery = options.battery;
    this.rssi = options.rssi;
    this.#topics = deviceTopics(options.id);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Connect, subscribe to the commands topic, announce online (if announcing), start heartbeats. */
  async start(): Promise<void> {
    if (this.#client) throw new Error(`${this.id}: already started`);
    const announce = this.#opts.announce ?? false;
    const client = mqtt.connect(this.#opts.url, {
      clientId: this.id,
      username: this.id,
      password: this.#opts.secret,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: this.#opts.reconnectMs ?? 0,
      connectTimeout: this.#timeoutMs,
      ...(announce
        ? { will: { topic: this.#topics.status, payload: Buffer.from(OFFLINE), qos: 1, retain: true } }
        : {}),
    });
    this.#client = client;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    // An 'error' without a listener would crash the process (reconnect attempts while the hub is down).
    // Errors before the first CONNACK reject start() instead.
    let started = false;
    client.on('error', (err) => {
      if (started) this.#opts.onError?.(err);
    });
    try {
      await waitForConnack(client, this.#opts.url, this.#timeoutMs);
      const granted = await this.#within(client.subscribeAsync(this.#topics.commands, { qos: 1 }), 'SUBACK');
      if (granted.some((g) => g.qos === 128)) {
        throw new SimDeviceError(
          'subscribe_refused',
          `the hub refused ${this.id} a subscription to its commands topic`,
        );
      }
      if (announce) await this.#publishStatus(ONLINE);
    } catch (err) {
      this.#client = undefined;
      await client.endAsync(true);
      throw err;
    }
    started = true;
    // mqtt.js resubscribes after a reconnect; the status has to be announced again by us.
    if (announce) client.on('connect', this.#onReconnect);
    const every = this.#opts.heartbeatMs ?? 0;
    if (every > 0) {
      this.#heartbeat = setInterval(() => {
        if (this.connected) this.heartbeat().catch((err: Error) => this.#opts.onError?.(err));
      }, every);
      this.#heartbeat.unref();
    }
  }

  /** Send one event (QoS 1) and resolve once the hub has acknowledged it, i.e. stored it durably. */
  async send(type: EventType, extras: EventExtras = {}): Promise<SentEvent> {
    const client = this.#client;
    if (!client) throw new SimDeviceError('not_connected', `${this.id}: not started`);
    const now = this.#opts.now ?? Date.now;
    const event: SentEvent = { type, id: this.#nextId(), ts: new Date(now()).toISOString(), ...extras };
    await this.#within(client.publishAsync(this.#topics.events, JSON.stringify(event), { qos: 1 }), 'PUBACK');
    this.lastSent = event;
    return event;
  }

  /** Send an event again exactly as it was (same id): the hub must merge it with the first delivery. */
  async resend(event: SentEvent): Promise<void> {
    await this.sendRaw(JSON.stringify(event));
  }

  /** Publish any payload on the events topic (QoS 1), e.g. a malformed one the hub must reject. */
  async sendRaw(payload: string | Buffer): Promise<void> {
    const client = this.#client;
    if (!client) throw new SimDeviceError('not_connected', `${this.id}: not started`);
    await this.#within(client.publishAsync(this.#topics.events, payload, { qos: 1 }), 'PUBACK');
  }

  /**
   * "I am OK": a check-in, answering the last request the device beeped for (PROTOCOL.md §7), or
   * `requestId` when given. Without any request heard it is a plain daily check-in press.
   */
  checkin(requestId?: string): Promise<SentEvent> {
    const last = this.beeps[this.beeps.length - 1]?.requestId;
    const id = requestId ?? (typeof last === 'string' ? last : undefined);
    return this.send('checkin', id === undefined ? {} : { requestId: id });
  }

  heartbeat(): Promise<SentEvent> {
    return this.send('heartbeat', {
      ...(this.battery === undefined ? {} : { battery: this.battery }),
      ...(this.rssi === undefined ? {} : { rssi: this.rssi }),
    });
  }

  /** The first command (already received or still to come) matching `pred`. */
  nextCommand(pred: (c: DeviceCommand) => boolean, timeoutMs = 5000): Promise<DeviceCommand> {
    const seen = this.commands.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (c: DeviceCommand) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new SimDeviceError('timeout', `${this.id}: no matching command within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * Leave. `clean`: announce offline (if announcing) and send DISCONNECT. `abrupt`: destroy the
   * socket without DISCONNECT, as a device losing power does, so the broker publishes the Last Will.
   * `quiet`: DISCONNECT without a word, so the hub still takes the device for online (a paused demo).
   */
  async stop(how: 'clean' | 'abrupt' | 'quiet' = 'clean'): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    client.off('connect', this.#onReconnect);
    if (how === 'abrupt' || !client.connected) {
      await client.endAsync(true);
      return;
    }
    if (this.#opts.announce && how === 'clean') {
      try {
        await this.#within(
          client.publishAsync(this.#topics.status, OFFLINE, { qos: 1, retain: true }),
          'PUBACK',
        );
      } catch (err) {
        this.#opts.onError?.(err as Error);
      }
    }
    await client.endAsync();
  }

  readonly #onReconnect = () => {
    this.#publishStatus(ONLINE).catch((err: Error) => this.#opts.onError?.(err));
  };

  async #publishStatus(payload: string): Promise<void> {
    const client = this.#client;
    if (!client) return;
    await this.#within(client.publishAsync(this.#topics.status, payload, { qos: 1, retain: true }), 'PUBACK');
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.#topics.commands) return;
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    if (!value || typeof value !== 'object' || typeof (value as { type?: unknown }).type !== 'string') return;
    const command = value as DeviceCommand;
    this.commands.push(command);
    if (command.type === 'checkin.request') this.beeps.push(command);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pred(command)) return true;
      w.resolve(command);
      return false;
    });
    this.#opts.onCommand?.(command);
  }

  #within<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(
      promise,
      this.#timeoutMs,
      () => new SimDeviceError('timeout', `${this.id}: no ${what} from the hub within ${this.#timeoutMs} ms`),
    );
  }
}

/** Resolve on the CONNACK; reject with a SimDeviceError that says why the hub could not be used. */
function waitForConnack(client: MqttClient, url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: SimDeviceError) => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onConnect = () => done();
    const onError = (err: Error & { code?: number | string }) =>
      done(describeConnectError(err, url, timeoutMs));
    // mqtt.js closes silently when its own connect timeout passes.
    const onClose = () =>
      done(new SimDeviceError('closed', `the connection to ${url} closed before the hub accepted it`));
    const timer = setTimeout(
      () => done(new SimDeviceError('timeout', `no answer from the hub at ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}

function describeConnectError(
  err: Error & { code?: number | string },
  url: string,
  timeoutMs: number,
): SimDeviceError {
  if (typeof err.code === 'number') {
    const reason = err.message.replace(/^Connection refused: /, '');
    return new SimDeviceError(
      'refused',
      `connection refused by the hub: ${reason} (CONNACK ${err.code})`,
      err.code,
    );
  }
  if (err.message === 'connack timeout') {
    return new SimDeviceError('timeout', `no answer from the hub at ${url} within ${timeoutMs} ms`);
  }
  if (err.code === 'ECONNREFUSED') {
    return new SimDeviceError('unreachable', `nothing is listening at ${url} (is the hub running?)`);
  }
  return new SimDeviceError('unreachable', `cannot reach the hub at ${url}: ${err.message}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
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
