import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Aedes, Client } from 'aedes';
import { Counter } from 'prom-client';
import type { HubConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { addressKey, FlapGuard } from './flap-guard.js';
import { mayBeLifeSafety } from './life-safety.js';
import { type Rate, RateLimiter } from './rate-limit.js';

type Limits = HubConfig['mqtt']['limits'];

interface Conn {
  remote: string;
  address: string;
  /** The first reason recorded for this connection's end (a guard, a refusal, a broker error). */
  reason: string | undefined;
  peerEnded: boolean;
  /** Logged in: a connection that ends without this counts towards the address's flapping ban. */
  authenticated: boolean;
}

/** What aedes hangs on each connection (lib/client.js: `conn.client = this`). */
type AedesConn = Duplex & { client?: { id?: string | null; _disconnected?: boolean } };

/** Refusal log lines per reason at most once a second, with a count of those left out: a flood must not flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 1000;

/**
 * The broker's limits and connection bookkeeping (docs/security.md): a cap on open connections, the
 * flapping ban (per client id and per address), the per-device publish rate limit with its
 * life-safety bypass, the packet guard, and one log line per closed connection with its reason.
 */
export class BrokerGuards {
  readonly #rate = new RateLimiter();
  readonly #deviceRate: Rate;
  readonly #gatewayRate: Rate;
  readonly #clients: FlapGuard;
  readonly #addresses: FlapGuard;
  readonly #conns = new Map<Duplex, Conn>();
  /** Connections a guard closed for a protocol violation: packets of their last read are not to be served. */
  readonly #violated = new WeakSet<Duplex>();
  readonly #refusalLog = new Map<string, { at: number; suppressed: number }>();
  readonly #rateLimited = new Map<string, number>();
  readonly #bypass: Counter<'kind'>;
  /** Client ids between authentication and registration with aedes, with when they started. */
  readonly #connecting = new Map<string, { conn: Duplex; at: number }>();
  /** The connection aedes has registered for each client id. */
  readonly #registered = new Map<string, Duplex>();

  constructor(
    private readonly limits: Readonly<Limits>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Whether a client id is a configured device: other ids are never logged as given (see clientLabel). */
    private readonly isDevice: (id: string) => boolean,
  ) {
    this.#deviceRate = { perSecond: limits.publishPerSecond, burst: limits.publishBurst };
    this.#gatewayRate = { perSecond: limits.gatewayPublishPerSecond, burst: limits.gatewayPublishBurst };
    this.#clients = new FlapGuard(limits.flapWindowMs, limits.flapBanMs);
    this.#addresses = new FlapGuard(limits.flapWindowMs, limits.flapBanMs);
    this.#bypass = new Counter({
      name: 'carehub_mqtt_rate_limit_bypass_total',
      help: 'Publishes over a client rate limit let through because they may carry a life-safety event',
      labelNames: ['kind'] as const,
      registers: [metrics.registry],
    });
  }

  /** aedes options that carry the queue and inflight caps and the slow-subscriber cut. */
  aedesOptions(): { queueLimit: number; maxInflightInbound: number; drainTimeout: number } {
    return {
      queueLimit: this.limits.queueLimit,
      maxInflightInbound: this.limits.maxInflightInbound,
      drainTimeout: this.limits.drainTimeoutMs,
    };
  }

  get openConnections(): number {
    return this.#conns.size;
  }

  /** Log broker errors as the reason of the connection they end. */
  watch(aedes: Aedes): void {
    const record = (client: Client, err: Error) => {
      if (client?.conn) this.reason(client.conn, err.message.slice(0, 200));
    };
    aedes.on('clientError', record);
    aedes.on('connectionError', record);
    aedes.on('client', (client) => {
      const id = String(client.id);
      if (this.#connecting.get(id)?.conn === client.conn) this.#connecting.delete(id);
      if (client.closed && !client.connecting) {
        // aedes 1.2: the connection closed (and finished closing) between authentication and
        // registration, so nothing will ever unregister it: it would stay in aedes.clients and
        // connectedClients for good, and the next takeover of its id skips the decrement.
        (aedes as unknown as { unregisterClient(c: Client): void }).unregisterClient(client);
        return;
      }
      this.#registered.set(id, client.conn);
    });
    aedes.on('clientDisconnect', (client) => {
      const id = String(client.id);
      if (this.#registered.get(id) === client.conn) this.#registered.delete(id);
    });
  }

  /**
   * A CONNECT for `client.id` passed authentication. false when another connection with the same
   * client id is still being set up: the caller refuses this one (CONNACK 3, the device retries).
   * aedes 1.2 miscounts and can lose track of clients when session takeovers of one id overlap
   * (two take over the same old session at once), so takeovers are made one at a time.
   */
  #beginConnect(client: Client, staleMs = 10_000): boolean {
    const id = String(client.id);
    const now = performance.now();
    const other = this.#connecting.get(id);
    if (other && other.conn !== client.conn && !other.conn.destroyed && now - other.at < staleMs) {
      this.metrics.connectionsRefused.inc({ reason: 'concurrent_connect' });
      this.reason(client.conn, 'concurrent_connect');
      return false;
    }
    this.#connecting.set(id, { conn: client.conn, at: now });
    return true;
  }

  /**
   * A new connection (TCP, TLS or WebSocket). Closes it at once and returns false when the hub is at
   * its connection cap or the address is banned; otherwise starts watching it.
   */
  admit(stream: Duplex, remote: string): boolean {
    const port = (stream as Socket).remotePort;
    const label = port === undefined ? remote : `${remote}:${port}`;
    const address = addressKey(remote);
    let refusal: string | undefined;
    if (this.#conns.size >= this.limits.maxConnections) refusal = 'max_connections';
    else if (this.#addresses.bannedFor(address) > 0) refusal = 'address_banned';
    if (refusal) {
      this.metrics.connectionsRefused.inc({ reason: refusal });
      this.#refusalLine(refusal, label);
      stream.on('error', () => {});
      stream.destroy();
      return false;
    }
    const conn: Conn = { remote: label, address, reason: undefined, peerEnded: false, authenticated: false };
    this.#conns.set(stream, conn);
    // 'end' and 'close' fire once: plain listeners, not once() wrappers (this runs for every device).
    stream.on('end', () => {
      conn.peerEnded = true;
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      conn.reason ??= err.code === 'ECONNRESET' ? 'peer_reset' : (err.code ?? err.message).slice(0, 200);
    });
    stream.on('close', () => this.#closed(stream, conn));
    return true;
  }

  /** A guard is closing `stream` for a protocol violation. */
  violation(stream: Duplex, reason: string): void {
    this.#violated.add(stream);
    this.reason(stream, reason);
  }

  /** True while the packets of a violating connection's last read are still being handed to the broker. */
  violated(stream: Duplex): boolean {
    return this.#violated.has(stream);
  }

  /** Record why `stream` is about to end (the first reason wins). */
  reason(stream: Duplex, reason: string): void {
    const conn = this.#conns.get(stream);
    if (conn) conn.reason ??= reason;
  }

  /**
   * A device authenticated. Counts the connect for the flapping ban; false when the client id is
   * banned (the caller refuses it with CONNACK 3, server unavailable). Only successful connects count,
   * so nobody without the device's secret can get a device banned.
   */
  authenticated(client: Client, isDevice: boolean): boolean {
    const conn = this.#conns.get(client.conn);
    if (conn) conn.authenticated = true;
    if (!this.#beginConnect(client)) return false;
    const previous = this.#registered.get(String(client.id));
    if (previous && previous !== client.conn) this.reason(previous, 'session_taken_over');
    if (!isDevice) return true;
    const id = String(client.id);
    if (this.#clients.bannedFor(id) > 0) return this.#refuseFlapping(client, false);
    if (this.#clients.hit(id, this.limits.flapMaxConnectsPerClient))
      return this.#refuseFlapping(client, true);
    return true;
  }

  /**
   * The publish rate limit: true when the publish passes. Over the limit, a publish that may carry a
   * life-safety event passes anyway (and is counted); any other is to be acknowledged and dropped.
   */
  allowPublish(clientId: string, gateway: boolean, topic: string, payload: Buffer): boolean {
    const rate = gateway ? this.#gatewayRate : this.#deviceRate;
    if (this.#rate.take(clientId, rate)) return true;
    if (mayBeLifeSafety(topic, payload)) {
      this.#bypass.inc({ kind: gateway ? 'gateway' : 'device' });
      return true;
    }
    this.metrics.rejected.inc({ reason: 'rate_limited' });
    const dropped = (this.#rateLimited.get(clientId) ?? 0) + 1;
    this.#rateLimited.set(clientId, dropped);
    // one line for the first drop, then one per 100, per client
    if (dropped === 1 || dropped % 100 === 0) {
      this.log.warn(
        { client: clientId, dropped, perSecond: rate.perSecond, burst: rate.burst },
        'publish dropped: rate limited',
      );
    }
    if (this.#rateLimited.size > 10_000)
      this.#rateLimited.delete(this.#rateLimited.keys().next().value as string);
    return false;
  }

  #refuseFlapping(client: Client, started: boolean): false {
    this.metrics.connectionsRefused.inc({ reason: 'flapping' });
    this.reason(client.conn, 'flapping');
    if (started) {
      this.log.warn(
        {
          client: String(client.id),
          banMs: this.limits.flapBanMs,
          max: this.limits.flapMaxConnectsPerClient,
          windowMs: this.limits.flapWindowMs,
        },
        'mqtt client flapping: banned',
      );
    } else {
      this.#refusalLine('flapping', String(client.id));
    }
    return false;
  }

  #refusalLine(reason: string, who: string): void {
    const now = performance.now();
    const entry = this.#refusalLog.get(reason);
    if (entry && now - entry.at < REFUSAL_LOG_INTERVAL_MS) {
      entry.suppressed++;
      return;
    }
    this.log.info({ reason, remote: who, suppressed: entry?.suppressed ?? 0 }, 'mqtt connection refused');
    this.#refusalLog.set(reason, { at: now, suppressed: 0 });
  }

  #closed(stream: AedesConn, conn: Conn): void {
    this.#conns.delete(stream);
    // Counted when it ends, not when it starts: devices still waiting for their secret to be
    // checked in a reconnect storm (after a power cut, behind one NAT address) never count.
    if (!conn.authenticated && this.#addresses.hit(conn.address, this.limits.flapMaxConnectsPerAddress)) {
      this.log.warn(
        { address: conn.address, banMs: this.limits.flapBanMs, max: this.limits.flapMaxConnectsPerAddress },
        'mqtt address banned: too many connections that did not authenticate',
      );
    }
    const cid = stream.client?.id;
    if (cid != null) {
      if (this.#connecting.get(cid)?.conn === stream) this.#connecting.delete(cid);
      if (this.#registered.get(cid) === stream) this.#registered.delete(cid);
    }
    const client = stream.client;
    const reason =
      conn.reason ??
      (client?._disconnected ? 'client_disconnect' : conn.peerEnded ? 'peer_closed' : 'closed_by_hub');
    const id = client?.id;
    this.log.info(
      { remote: conn.remote, client: id == null ? null : clientLabel(id, this.isDevice(id)), reason },
      'mqtt connection closed',
    );
  }
}

/**
 * A client id for the log: a configured device's id as is; any other id only as a short digest, since
 * a mistyped client id may well be a secret (a password pasted into the wrong field).
 */
export function clientLabel(id: string, known: boolean): string {
  if (known) return id;
  return `unknown#${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}
