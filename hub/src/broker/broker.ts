import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesOptions, type Client, type Subscription } from 'aedes';
import { SecretVerifier } from '../auth/secrets.js';
import type { HubConfig } from '../config/schema.js';
import type { Ingest } from '../ingest/ingest.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Directory } from '../site/directory.js';
import { mayPublish, maySubscribe } from './acl.js';
import { attachFrameGuard } from './frame-guard.js';

/** Where refused publishes go: a $-topic no client can subscribe to (ACL) and `#` never matches. */
const DISCARD_TOPIC = '$carehub/discard';

type PublishPacket = Parameters<NonNullable<AedesOptions['authorizePublish']>>[1];
type ReturnCode = 2 | 4 | 5;
function authError(returnCode: ReturnCode, message: string): Error & { returnCode: ReturnCode } {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * The embedded MQTT broker: aedes with per-device authentication, topic ACLs, byte caps and the
 * ingest hook. A publish is acknowledged only after ingest has made it durable.
 */
export class Broker {
  #aedes: Aedes | undefined;
  #tcp: Server | undefined;
  readonly #sockets = new Set<Duplex>();
  readonly #verifier = new SecretVerifier();

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly directory: Directory,
    private readonly ingest: Ingest,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  get aedes(): Aedes {
    if (!this.#aedes) throw new Error('broker not started');
    return this.#aedes;
  }

  async start(): Promise<number> {
    const mqtt = this.config.mqtt;
    this.#aedes = await Aedes.createBroker({
      connectTimeout: mqtt.connectTimeoutMs,
      heartbeatInterval: 60_000,
      maxClientsIdLength: 64,
      maxTopicLevels: 16,
      authenticate: (client, username, password, cb) => {
        this.#authenticate(client, username, password).then(
          () => cb(null, true),
          (err: Error) => cb(err as Error & { returnCode: ReturnCode }, false),
        );
      },
      authorizePublish: (client, packet, cb) => this.#authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => cb(null, this.#authorizeSubscribe(client, sub)),
    });
    const aedes = this.#aedes;
    aedes.on('client', () => this.metrics.devicesConnected.set(aedes.connectedClients));
    aedes.on('clientDisconnect', (client) => {
      this.metrics.devicesConnected.set(aedes.connectedClients);
      this.log.debug({ client: client.id }, 'device disconnected');
    });
    aedes.on('clientError', (client, err) => {
      this.metrics.connectionsRefused.inc({ reason: 'client_error' });
      this.log.info({ client: client.id, reason: err.message }, 'mqtt connection closed on error');
    });
    aedes.on('connectionError', (client, err) => {
      this.metrics.connectionsRefused.inc({ reason: 'connection_error' });
      this.log.info({ client: client.id, reason: err.message }, 'mqtt connection error before CONNECT completed');
    });

    this.#tcp = createServer((socket) => this.handle(socket));
    this.#tcp.on('error', (err) => this.log.error({ err }, 'mqtt listener error'));
    await new Promise<void>((resolve, reject) => {
      this.#tcp?.once('error', reject);
      this.#tcp?.listen(mqtt.port, mqtt.host, () => resolve());
    });
    const addr = this.#tcp.address();
    return typeof addr === 'object' && addr ? addr.port : mqtt.port;
  }

  /** Serve one client connection (TCP socket or a WebSocket stream) with the byte caps in front. */
  handle(stream: Duplex, remote = (stream as Socket).remoteAddress ?? 'ws'): void {
    this.#sockets.add(stream);
    stream.once('close', () => this.#sockets.delete(stream));
    stream.on('error', () => {});
    attachFrameGuard(
      stream,
      { maxConnectBytes: this.config.mqtt.maxConnectBytes, maxPacketBytes: this.config.mqtt.maxPacketBytes },
      (violation) => {
        this.metrics.connectionsRefused.inc({ reason: violation });
        this.log.warn({ remote, reason: violation }, 'mqtt connection closed: frame limit');
      },
    );
    this.aedes.handle(stream);
  }

  /** Send a message to a device's commands topic (QoS 1, not retained). */
  publishCommand(deviceId: string, message: object): void {
    if (!this.#aedes || this.#aedes.closed) return;
    this.#aedes.publish(
      {
        cmd: 'publish',
        topic: `carehub/v1/devices/${deviceId}/commands`,
        payload: Buffer.from(JSON.stringify(message)),
        qos: 1,
        retain: false,
        dup: false,
      },
      (err) => {
        if (err) this.log.warn({ device: deviceId, err: err.message }, 'command publish failed');
      },
    );
  }

  async stop(): Promise<void> {
    const tcp = this.#tcp;
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    const aedes = this.#aedes;
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()));
  }

  async #authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    if (username === undefined || username === '' || password === undefined) {
      this.#refused(client, 'anonymous');
      throw authError(5, 'anonymous connections are refused');
    }
    const entry = this.directory.device(username);
    if (client.id !== username) {
      this.#refused(client, 'client_id_mismatch');
      throw authError(2, 'client id must equal the device id');
    }
    const ok = entry !== undefined && (await this.#verifier.verify(entry.device.id, password.toString('utf8'), entry.device.secretHash));
    if (!ok) {
      this.#refused(client, 'bad_credentials');
      throw authError(4, 'bad user name or password');
    }
    this.log.debug({ client: client.id }, 'device authenticated');
  }

  #refused(client: Client, reason: string): void {
    this.metrics.connectionsRefused.inc({ reason });
    this.log.info({ client: String(client.id).slice(0, 64), reason }, 'mqtt connection refused');
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, cb: (error?: Error | null) => void): void {
    if (!client) {
      // aedes republishes wills of a broker it believes dead without a client: nothing to check them against.
      discard(packet);
      return cb(null);
    }
    const entry = this.directory.device(client.id);
    if (!entry || !mayPublish(this.directory, entry, packet.topic)) {
      this.metrics.rejected.inc({ reason: 'acl_denied' });
      this.log.warn({ client: client.id, topic: packet.topic.slice(0, 200) }, 'publish refused by ACL');
      discard(packet);
      return cb(null);
    }
    this.ingest
      .accept({
        clientId: client.id,
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        dup: packet.dup,
        messageId: packet.messageId,
      })
      .then(
        (outcome) => {
          // Events are for the hub alone; only status messages are kept (retained) by the broker.
          if (outcome.status === 'rejected' || !packet.topic.endsWith('/status')) discard(packet);
          cb(null);
        },
        (err: unknown) => {
          // Not durable: no PUBACK. The device keeps the message and resends it after reconnecting.
          this.log.error({ client: client.id, err }, 'could not store a device message; closing the connection');
          cb(err instanceof Error ? err : new Error(String(err)));
        },
      );
  }

  #authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const entry = this.directory.device(client.id);
    if (entry && maySubscribe(this.directory, entry, sub.topic)) return { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 };
    this.metrics.rejected.inc({ reason: 'acl_denied' });
    this.log.warn({ client: client.id, topic: sub.topic.slice(0, 200) }, 'subscribe refused by ACL');
    return null;
  }
}

function discard(packet: PublishPacket): void {
  packet.topic = DISCARD_TOPIC;
  packet.retain = false;
  packet.payload = Buffer.alloc(0);
}
