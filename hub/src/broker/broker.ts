import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client, type Subscription } from 'aedes';
import { Counter } from 'prom-client';
import { AdmissionQueue } from '../auth/admission-queue.js';
import { type FastVerifierStore, SecretVerifier } from '../auth/secrets.js';
import type { HubConfig } from '../config/schema.js';
import type { Ingest } from '../ingest/ingest.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { listenOn } from '../net/listen.js';
import { TOPIC_PREFIX } from '../protocol/topics.js';
import type { DeviceEntry, Directory } from '../site/directory.js';
import { mayPublish, type QoS, TopicAcl } from './acl.js';
import { discard, skipDiscardedPublishes } from './aedes-fit/discard.js';
import { useFastAcks } from './aedes-fit/fast-acks.js';
import { useLeanParser } from './aedes-fit/lean-parser.js';
import { indexRetained } from './aedes-fit/retained-index.js';
import { capSubscribeQos } from './aedes-fit/subscribe-qos.js';
import { type AedesFit, checkAedesFit } from './aedes-fit/versions.js';
import { BrokerGuards, clientLabel } from './guards.js';
import { RefusalLog } from './refusal-log.js';
import { type QueueDrop, SessionStore } from './session-store.js';
import { attachStreamGuard } from './stream-guard.js';
import { listenMqttTls } from './tls-listener.js';
import { willProblem } from './will-check.js';

/**
 * Accept backlog of the MQTT listeners. After a restart every device connects within seconds; while
 * the hub works through the first of them, Node's default (511) overflowed and the kernel reset the
 * connections past it (ECONNRESET in the cold-admission bench, none reaching the hub), so those
 * devices waited for their reconnect back-off. The kernel caps it at net.core.somaxconn (4096 here).
 */
export const MQTT_LISTEN_BACKLOG = 4096;

/** Admitted first after a restart: they (or, for a gateway, the devices behind it) raise SOS and fire alarms. */
const LIFE_SAFETY_KINDS: ReadonlySet<string> = new Set(['sos_button', 'smoke_detector', 'gateway']);

type PublishPacket = Parameters<NonNullable<AedesOptions['authorizePublish']>>[1];
type ReturnCode = 2 | 3 | 4 | 5;
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
  /** Devices not yet in the verifier's cache wait for scrypt in an admission queue, life-safety first. */
  readonly #verifier: SecretVerifier;
  /** Limits, bans, packet guard, close log (guards.ts); made in start(). */
  #guards: BrokerGuards | undefined;
  #tls: { server: TlsServer; port: number } | undefined;
  /** Who may subscribe to what and be sent what (acl.ts): subscriptions, sessions and deliveries use the same rule. */
  readonly #acl: TopicAcl;
  /** Refused publishes, filters, wills and deliveries: one line, then a summary a minute per client. */
  readonly #refusals: RefusalLog;
  readonly #sessions: SessionStore;
  #fit: AedesFit | undefined;
  readonly #willsRefused: Counter<'reason'>;
  readonly #messagesDropped: Counter<'reason'>;

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly directory: Directory,
    private readonly ingest: Ingest,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Fast verifiers of hub-made device secrets kept across restarts (store/fast-verifier-repo.ts). */
    fastVerifiers?: FastVerifierStore,
  ) {
    const secretChecks = new Counter({
      name: 'carehub_mqtt_secret_checks_total',
      help: 'Device secret checks, by how they were decided: cached (verified before in this process), fast (HMAC of a hub-made secret), scrypt',
      labelNames: ['method'] as const,
      registers: [metrics.registry],
    });
    // Bound once: a labelled inc() hashes its labels on every call, and this runs for every admission.
    const byMethod = {
      cached: secretChecks.labels('cached'),
      fast: secretChecks.labels('fast'),
      scrypt: secretChecks.labels('scrypt'),
    };
    this.#verifier = new SecretVerifier(new AdmissionQueue(), {
      ...(fastVerifiers ? { store: fastVerifiers } : {}),
      onCheck: (method) => byMethod[method].inc(),
    });
    this.#acl = new TopicAcl(directory, config.mqtt.lab);
    this.#refusals = new RefusalLog(log);
    this.#willsRefused = new Counter({
      name: 'carehub_mqtt_wills_refused_total',
      help: 'Last Wills removed at CONNECT (the device is admitted without one), by reason: topic (not its status or availability topic) or payload (not a status)',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
    this.#messagesDropped = new Counter({
      name: 'carehub_mqtt_messages_dropped_total',
      help: 'Messages not delivered to or not queued for a device, by reason: queue_full (oldest dropped past mqtt.limits.maxQueuedPerClient) or not_authorised (outside what it may receive)',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
    this.#sessions = new SessionStore(this.#acl, config.mqtt.limits.maxQueuedPerClient, (id, reason, topic) =>
      this.#dropped(id, reason, topic),
    );
  }

  get aedes(): Aedes {
    if (!this.#aedes) throw new Error('broker not started');
    return this.#aedes;
  }

  /** The session store aedes uses (subscriptions of persistent sessions, queued messages). */
  get sessions(): SessionStore {
    return this.#sessions;
  }

  /** Port of the MQTT over TLS listener, when `mqtt.tls` is set. */
  get tlsPort(): number | undefined {
    return this.#tls?.port;
  }

  /** The pinned aedes, aedes-persistence and mqtt-packet versions, as checked at start (/healthz). */
  get fit(): AedesFit | undefined {
    return this.#fit;
  }

  async start(): Promise<number> {
    this.#fit = checkAedesFit();
    const mqtt = this.config.mqtt;
    const guards = new BrokerGuards(
      mqtt.limits,
      this.metrics,
      this.log,
      (id) => this.directory.device(id) !== undefined,
    );
    this.#guards = guards;
    this.#aedes = await Aedes.createBroker({
      ...guards.aedesOptions(),
      persistence: this.#sessions,
      authorizeForward: (client, packet) => this.#authorizeForward(client, packet),
      connectTimeout: mqtt.connectTimeoutMs,
      heartbeatInterval: 60_000,
      // No cap on publishes in flight inside aedes (its mqemitter). At the default (100), QoS 1
      // command deliveries, each held over a setImmediate, fill the cap when the loop is busy; every
      // device publish, and its PUBACK, then queues behind them, and releasing that queue recurses
      // once per queued message: at ~57 000 queued the hub died of "Maximum call stack size
      // exceeded" (bench scenario 2 at 14 000 events/s offered). Deliveries are bounded anyway:
      // devices publish only under their own rate limit, and the hub only to device commands.
      concurrency: 0,
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
    indexRetained(aedes);
    skipDiscardedPublishes(aedes);
    useFastAcks();
    aedes.on('client', () => this.metrics.devicesConnected.set(aedes.connectedClients));
    aedes.on('clientDisconnect', (client) => {
      this.metrics.devicesConnected.set(aedes.connectedClients);
      this.log.debug({ client: client.id }, 'device disconnected');
    });
    aedes.on('clientError', (client, err) => {
      this.metrics.connectionsRefused.inc({ reason: 'client_error' });
      this.log.info({ client: this.#label(client), reason: err.message }, 'mqtt connection closed on error');
    });
    aedes.on('connectionError', (client, err) => {
      this.metrics.connectionsRefused.inc({ reason: 'connection_error' });
      this.log.info(
        { client: this.#label(client), reason: err.message },
        'mqtt connection error before CONNECT completed',
      );
    });

    guards.watch(aedes);
    this.#refusals.start();
    if (mqtt.lab)
      this.log.warn(
        { lab: true },
        'MQTT LAB MODE: anonymous clients and any topic are accepted (CAREHUB_LAB=1); never run this for real residents',
      );
    if (mqtt.tls) {
      this.#tls = await listenMqttTls(
        mqtt.tls,
        mqtt.host,
        mqtt.connectTimeoutMs,
        mqtt.limits.maxConnections,
        (s) => this.handle(s),
        this.log,
        this.metrics,
        MQTT_LISTEN_BACKLOG,
      );
    }
    if (!mqtt.plaintext) return 0; // TLS only: no plaintext listener at all
    this.#tcp = createServer((socket) => this.handle(socket));
    this.#tcp.on('error', (err) => this.log.error({ err }, 'mqtt listener error'));
    return listenOn(this.#tcp, mqtt.port, mqtt.host, MQTT_LISTEN_BACKLOG);
  }

  /** Serve one client connection (TCP socket or a WebSocket stream) with the byte caps in front. */
  handle(stream: Duplex, remote = (stream as Socket).remoteAddress ?? 'ws'): void {
    if (this.#guards && !this.#guards.admit(stream, remote)) return;
    this.#sockets.add(stream);
    stream.on('close', () => this.#sockets.delete(stream));
    if (!this.#guards) stream.on('error', () => {}); // the guards listen for errors otherwise
    attachStreamGuard(
      stream,
      { maxConnectBytes: this.config.mqtt.maxConnectBytes, maxPacketBytes: this.config.mqtt.maxPacketBytes },
      (violation) => {
        this.metrics.connectionsRefused.inc({ reason: violation });
        this.#guards?.violation(stream, violation);
        this.log.warn({ remote, reason: violation }, 'mqtt connection closed: protocol violation');
      },
    );
    const client = this.aedes.handle(stream);
    useLeanParser(client);
    capSubscribeQos(client, (clientId, username) => this.#acl.maxQos(clientId, username));
  }

  /** Send a message to a device's commands topic (QoS 1, not retained). */
  /** The device is connected to this broker now. */
  holds(deviceId: string): boolean {
    const aedes = this.#aedes;
    if (aedes === undefined || aedes.closed) return false;
    // aedes keeps its registered clients by id (not in its typings).
    return (aedes as unknown as { clients: Record<string, unknown> }).clients[deviceId] !== undefined;
  }

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

  /**
   * A device retired, given a new secret, or whose home was removed: its connection closes now, and
   * a reconnect is checked against the directory as it now stands (refused, or the new secret only).
   */
  revoke(deviceId: string): void {
    this.#verifier.forget(deviceId);
    // aedes keeps its connected clients by id (untyped in its declarations).
    const clients = (this.#aedes as unknown as { clients?: Record<string, Client> } | undefined)?.clients;
    const client = clients?.[deviceId];
    if (!client) return;
    this.log.info({ client: deviceId }, 'device connection closed: retired or its secret changed');
    client.close();
  }

  async stop(): Promise<void> {
    // Stop accepting, then cut the open connections: server.close() waits for them otherwise.
    const closing: Promise<void>[] = [];
    const tcp = this.#tcp;
    if (tcp) closing.push(new Promise<void>((resolve) => tcp.close(() => resolve())));
    const tls = this.#tls?.server;
    if (tls) closing.push(new Promise<void>((resolve) => tls.close(() => resolve())));
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closing);
    const aedes = this.#aedes;
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    this.#refusals.stop();
  }

  async #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<void> {
    // Lab mode: anyone who is not (and does not pose as) a configured device is a plain MQTT client.
    if (this.#acl.isLabClient(client.id, username)) {
      if (this.#guards && !this.#guards.authenticated(client, false))
        throw authError(3, 'refused for now: try again later');
      return;
    }
    if (username === undefined || username === '' || password === undefined) {
      this.#refused(client, 'anonymous');
      throw authError(5, 'anonymous connections are refused');
    }
    const entry = this.directory.device(username);
    if (client.id !== username) {
      this.#refused(client, 'client_id_mismatch');
      throw authError(2, 'client id must equal the device id');
    }
    if (entry?.device.secretHash === '') {
      // Imported, and no secret made for it yet (the installer sheet makes one).
      this.#refused(client, 'not_provisioned');
      throw authError(4, 'bad user name or password');
    }
    const ok =
      entry !== undefined &&
      (await this.#verifier.verify(entry.device.id, password.toString('utf8'), entry.device.secretHash, {
        priority: LIFE_SAFETY_KINDS.has(entry.device.kind) ? 0 : 1,
        isStale: () => client.closed || client.conn.destroyed,
      }));
    if (ok === undefined) {
      // It waited for admission and its connection closed meanwhile: nothing was checked.
      this.metrics.connectionsRefused.inc({ reason: 'gave_up_waiting' });
      throw authError(3, 'connection closed while waiting for admission');
    }
    if (!ok) {
      this.#refused(client, 'bad_credentials');
      throw authError(4, 'bad user name or password');
    }
    // Retired, or given a new secret, while its secret was being checked: as if it had come after.
    if (this.directory.device(username)?.device.secretHash !== entry?.device.secretHash) {
      this.#refused(client, 'bad_credentials');
      throw authError(4, 'bad user name or password');
    }
    if (this.#guards && !this.#guards.authenticated(client, true))
      throw authError(3, 'refused for now (flapping, or a concurrent connect): try again later');
    this.#checkWill(client, entry);
    this.log.debug({ client: client.id }, 'device authenticated');
  }

  /**
   * A Last Will that is not a status on the device's own status topic (or, for a gateway, an
   * availability topic) is removed before aedes stores it: the device is admitted without a will,
   * and it is counted and logged. Refusing the CONNECT instead would lock a life-safety device out
   * over a firmware setting. aedes keeps the CONNECT's will in `client._will` until after
   * authentication (lib/handlers/connect.js, storeWill).
   */
  #checkWill(client: Client, entry: NonNullable<ReturnType<Directory['device']>>): void {
    const c = client as Client & { _will?: { topic?: string; payload?: Buffer | string } | null };
    const will = c._will;
    if (!will) return;
    const topic = String(will.topic ?? '');
    const payload = Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload ?? '');
    const problem = willProblem(this.directory, entry, topic, payload, this.config.mqtt.maxEventBytes);
    if (!problem) return;
    c._will = null;
    this.#willsRefused.inc({ reason: problem });
    this.#refusals.note(
      client.id,
      'will',
      topic,
      problem === 'topic' ? 'not its status topic' : 'not a status',
    );
  }

  /** aedes' authorizeForward: every delivery, live or from a session's queue, passes the ACL (acl.ts). */
  #authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (this.#acl.mayReceive(client.id, packet.topic)) return packet;
    // Lab clients subscribed to `#` see CareHub's topics refused all the time: that is lab mode, not news.
    if (this.directory.device(client.id)) this.#dropped(client.id, 'not_authorised', packet.topic);
    return null;
  }

  #dropped(clientId: string, reason: QueueDrop, topic: string): void {
    this.#messagesDropped.inc({ reason });
    this.#refusals.note(clientId, reason === 'queue_full' ? 'queue' : 'forward', topic, reason);
  }

  #refused(client: Client, reason: string): void {
    this.metrics.connectionsRefused.inc({ reason });
    this.log.info({ client: this.#label(client), reason }, 'mqtt connection refused');
  }

  /** A client id fit for the log: unknown ids only as a digest (a mistyped id may be a secret). */
  #label(client: Client): string | null {
    const id = client.id as string | null;
    return id === null ? null : clientLabel(String(id).slice(0, 64), this.directory.device(id) !== undefined);
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, cb: (error?: Error | null) => void): void {
    if (!client) {
      // aedes republishes wills of a broker it believes dead without a client: nothing to check them against.
      discard(packet);
      cb(null);
      return;
    }
    // A guard closed this connection during the read that carried this packet: serve nothing of it.
    if (!client.closed && this.#guards?.violated(client.conn)) {
      cb(new Error('protocol violation'));
      return;
    }
    const entry = this.directory.device(client.id);
    if (!entry && this.config.mqtt.lab) {
      // Lab mode: a plain broker for lab clients, but never into CareHub's own topics.
      if (packet.topic.startsWith('carehub/')) {
        this.metrics.rejected.inc({ reason: 'acl_denied' });
        discard(packet);
      }
      cb(null);
      return;
    }
    if (!entry || !mayPublish(this.directory, entry, packet.topic)) {
      this.metrics.rejected.inc({ reason: 'acl_denied' });
      this.#refusals.note(client.id, 'publish', packet.topic, undefined, entry && publishTopicsOf(entry));
      discard(packet);
      cb(null);
      return;
    }
    if (
      this.#guards &&
      !this.#guards.allowPublish(
        client.id,
        entry.device.kind === 'gateway',
        packet.topic,
        toBuffer(packet.payload),
      )
    ) {
      discard(packet); // acknowledged and dropped: counted as rate_limited
      cb(null);
      return;
    }
    // Events are for the hub alone; only status messages are kept (retained) by the broker.
    const forward = packet.topic.endsWith('/status');
    this.ingest.acceptThen(
      {
        clientId: client.id,
        sender: entry,
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        dup: packet.dup,
        messageId: packet.messageId,
      },
      (err, outcome) => {
        if (err || !outcome) {
          // Not durable: no PUBACK. The device keeps the message and resends it after reconnecting.
          this.log.error(
            { client: client.id, err },
            'could not store a device message; closing the connection',
          );
          cb(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (forward && outcome.status === 'rejected') discard(packet);
        cb(null);
      },
    );
    // Ingest has what it needs of the message: aedes keeps the packet until the PUBACK, after the
    // disk sync, and the payload need not live that long with it.
    if (!forward) discard(packet);
  }

  #authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const qos = this.#acl.grant(client.id, sub.topic, sub.qos as QoS);
    if (qos !== null) return qos === sub.qos ? sub : { ...sub, qos };
    this.metrics.rejected.inc({ reason: 'acl_denied' });
    const entry = this.directory.device(client.id);
    this.#refusals.note(client.id, 'subscribe', sub.topic, undefined, entry && subscribeTopicOf(entry));
    return null;
  }
}

/** What the device may publish on, for the refusal's log line (device ids and topics only). */
function publishTopicsOf(entry: DeviceEntry): string {
  return `${entry.eventsTopic} or ${entry.statusTopic}${entry.device.kind === 'gateway' ? ' or under its Zigbee2MQTT base topic' : ''}`;
}

function subscribeTopicOf(entry: DeviceEntry): string {
  return `${TOPIC_PREFIX}${entry.device.id}/commands${entry.device.kind === 'gateway' ? ' or its Zigbee2MQTT base topic' : ''}`;
}

function toBuffer(payload: PublishPacket['payload']): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
}
