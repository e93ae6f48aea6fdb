import { connect, type KV, type NatsConnection } from 'nats';
import type { ClusterConfig } from '../config/cluster-schema.js';
import type { RemoteLog } from '../core/state-machine.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { AppendResult, DeadLetter, DeviceEventLog } from '../store/journal.js';
import { CommandRelay } from './command-relay.js';
import { LeaderLease } from './leader-lease.js';
import { LogFollower, type LogSink } from './log-follower.js';
import { ensureLogStream, logNames, NatsLog } from './nats-log.js';
import { NodeRegistry, type NodeStatus } from './node-registry.js';

/** A node this far behind the stream answers /healthz as lagging. */
const LAG_LIMIT = 1000;
const CONNECT_TIMEOUT_MS = 30_000;
/** Longest wait for each step of a stop. */
const STOP_STEP_MS = 2000;

/** The state machine as the cluster sees it. */
export interface ClusterMachine extends LogSink {
  useRemoteLog(remote: RemoteLog): void;
}

/** What the hub does when this node becomes the leader or stops being it. */
export interface LeaderWork {
  /** Caught up with the log and the leader: arm the timers (those due meanwhile fire now, late), mark the start. */
  start(): void;
  /** Not the leader (any more): disarm at once. */
  stop(): void;
}

export interface ClusterStatus {
  node: string;
  leader: string | null;
  applied: number;
  lagging: boolean;
  /** Connected to NATS and caught up: it can take devices and staff. */
  ready: boolean;
}

/**
 * One hub node of a cluster (docs/cluster.md): the replicated log (device events and submitted
 * entries go there, and come back to every node through the follower), the leader lease, the node
 * registry and the device-command relay. Wiring only: each part is in its own file.
 */
export class ClusterNode {
  readonly #deviceLog: DeviceEventLog;
  #nc: NatsConnection | undefined;
  #log: NatsLog | undefined;
  #follower: LogFollower | undefined;
  #lease: LeaderLease | undefined;
  #registry: NodeRegistry | undefined;
  #relay: CommandRelay | undefined;
  #connected = false;
  #caughtUp = false;
  /** Bumped at every lease change: a leadership that was lost while catching up starts nothing. */
  #term = 0;
  #leaderWorking = false;
  #ports: { http: number | null; mqtt: number | null } = { http: null, mqtt: null };

  constructor(
    readonly config: ClusterConfig,
    private readonly machine: ClusterMachine,
    local: { deadLetter(dead: DeadLetter): Promise<AppendResult> },
    private readonly work: LeaderWork,
    private readonly deliverCommand: (deviceId: string, message: object) => void,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    // Ingest is wired before the connection exists: until start() every append fails (no PUBACK).
    this.#deviceLog = {
      appendThen: (entry, done) => {
        const log = this.#log;
        if (log) log.devices.appendThen(entry, done);
        else queueMicrotask(() => done(new Error('not connected to the cluster yet')));
      },
      append: (entry) =>
        this.#log
          ? this.#log.devices.append(entry)
          : Promise.reject(new Error('not connected to the cluster yet')),
      deadLetter: (dead) => local.deadLetter(dead),
    };
  }

  /** Where ingest puts device events: the replicated log (dead letters stay local). */
  get deviceLog(): DeviceEventLog {
    return this.#deviceLog;
  }

  get node(): string {
    return this.config.nodeId;
  }

  get isLeader(): boolean {
    return this.#leaderWorking;
  }

  /** Connect, create what is missing, check this data dir against the log, catch up, then follow and stand for leader. */
  async start(): Promise<void> {
    const nc = await this.#connect();
    this.#nc = nc;
    this.#connected = true;
    void this.#watch(nc);
    const { prefix, nodeId } = this.config;
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream();
    const known = new Set([...this.config.natsUrls, ...(nc.info?.connect_urls ?? [])]);
    const replicas = this.config.replicas ?? (known.size >= 3 ? 3 : 1);
    const names = logNames(prefix);
    const stream = await ensureLogStream(jsm, names, replicas);
    this.#checkDataDir(stream);
    const lease: KV = await js.views.kv(`${prefix}-leader`, {
      history: 1,
      ttl: this.config.leaseMs,
      replicas,
    });
    const nodes: KV = await js.views.kv(`${prefix}-nodes`, { history: 1, replicas, ttl: 24 * 3600_000 });

    const log = new NatsLog(js, names, nodeId, this.#deviceLog, this.logger.child({ part: 'log' }), () =>
      this.metrics?.clusterAppendFailures.inc(),
    );
    this.#log = log;
    this.machine.useRemoteLog(log);
    const follower = new LogFollower(js, names, this.machine, this.logger.child({ part: 'follower' }));
    this.#follower = follower;
    follower.start();
    const behind = stream.lastSeq - this.machine.processedSeq();
    if (behind > 0) this.logger.info({ entries: behind }, 'catching up with the replicated log');
    await follower.appliedUpTo(stream.lastSeq);
    this.#caughtUp = true;
    this.logger.info(
      { node: nodeId, applied: this.machine.processedSeq(), replicas: stream.replicas },
      'following the replicated log',
    );

    this.#relay = new CommandRelay(nc, `${prefix}.commands`, this.deliverCommand, this.logger);
    this.#relay.start();
    this.#registry = new NodeRegistry(nodes, () => this.#record(), this.logger);
    this.#registry.start();
    this.#lease = new LeaderLease(
      lease,
      nodeId,
      this.config.leaseMs,
      { gained: () => void this.#gained(jsm, names.stream), lost: () => this.#lost() },
      this.logger.child({ part: 'lease' }),
    );
    this.#lease.start();
  }

  /** The ports this node listens on, for the registry. */
  setPorts(ports: { http: number | null; mqtt: number | null }): void {
    this.#ports = ports;
  }

  /** Only the leader sends device commands; the relay delivers them where the device is connected. */
  command(deviceId: string, message: object): void {
    if (this.#leaderWorking) this.#relay?.send(deviceId, message);
  }

  status(): ClusterStatus {
    const lag = this.#follower?.lag() ?? 0;
    const lagging = !this.#caughtUp || lag > LAG_LIMIT;
    return {
      node: this.config.nodeId,
      leader: this.#lease?.leader ?? null,
      applied: this.machine.processedSeq(),
      lagging,
      // Connected but unable to store (a NATS minority, the stream without its quorum): the
      // balancer sends devices to a node that can.
      ready: this.#connected && this.#caughtUp && !(this.#log?.failing() ?? false),
    };
  }

  async nodes(): Promise<NodeStatus[]> {
    if (!this.#registry) return [];
    return this.#registry.list();
  }

  /** Hand the lease over, say goodbye, close; each step bounded, so a stop during a NATS outage ends. */
  async stop(): Promise<void> {
    const bounded = (p: Promise<unknown> | undefined) =>
      Promise.race([p?.catch(() => {}), new Promise((r) => setTimeout(r, STOP_STEP_MS).unref())]);
    this.#lost();
    await bounded(this.#lease?.stop());
    await bounded(this.#registry?.stop());
    this.#relay?.stop();
    await bounded(this.#follower?.stop());
    const nc = this.#nc;
    this.#nc = undefined;
    if (nc && !nc.isClosed()) {
      await bounded(nc.drain());
      if (!nc.isClosed()) await nc.close().catch(() => {});
    }
  }

  #record() {
    this.metrics?.clusterLeader.set(this.#leaderWorking ? 1 : 0);
    this.metrics?.clusterApplied.set(this.machine.processedSeq());
    return {
      id: this.config.nodeId,
      http: this.#ports.http,
      mqtt: this.#ports.mqtt,
      applied: this.machine.processedSeq(),
      leader: this.#leaderWorking,
      seenAt: Date.now(),
    };
  }

  async #gained(jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>, stream: string): Promise<void> {
    const term = ++this.#term;
    try {
      // Apply everything the previous leader logged before acting on it (timers it fired, alerts).
      const info = await jsm.streams.info(stream);
      await this.#follower?.appliedUpTo(info.state.last_seq);
    } catch (err) {
      this.logger.warn({ err: (err as Error)?.message }, 'could not read the log position before leading');
    }
    if (term !== this.#term || !this.#lease?.isLeader) return;
    this.#leaderWorking = true;
    void this.#registry?.report();
    this.work.start();
  }

  #lost(): void {
    this.#term++;
    if (!this.#leaderWorking) return;
    this.#leaderWorking = false;
    this.work.stop();
    void this.#registry?.report();
  }

  async #connect(): Promise<NatsConnection> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    for (;;) {
      try {
        return await connect({
          servers: this.config.natsUrls,
          name: `carehub-${this.config.nodeId}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          pingInterval: 2000,
          maxPingOut: 2,
          timeout: 2000,
          // Otherwise every publish builds an Error for its stack (5 % of a node's CPU under load).
          noAsyncTraces: true,
        });
      } catch (err) {
        if (Date.now() > deadline)
          throw new HubError(
            ErrorCodes.CLUSTER_UNAVAILABLE,
            `cannot reach the NATS servers (${this.config.natsUrls.join(', ')}): ${(err as Error).message}`,
            { cause: err },
          );
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.#connected = false;
        this.logger.warn({ server: s.data }, 'lost the NATS server; reconnecting');
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.logger.info({ server: s.data }, 'reconnected to NATS');
      }
    }
  }

  /**
   * A data dir must continue the log: its last applied entry must still be in the stream (or just
   * before its first one), and the stream must not be behind it (another cluster's log).
   */
  #checkDataDir(stream: { firstSeq: number; lastSeq: number }): void {
    const applied = this.machine.processedSeq();
    if (applied > stream.lastSeq)
      throw new HubError(
        ErrorCodes.CLUSTER_LOG_MISMATCH,
        `this data dir has applied entries up to ${applied}, but the cluster's log ends at ${stream.lastSeq}: it belongs to another log. Start this node on an empty data dir, or on a copy of a live node's data dir`,
      );
    if (stream.firstSeq > 1 && applied < stream.firstSeq - 1)
      throw new HubError(
        ErrorCodes.CLUSTER_DATA_DIR_BEHIND,
        `this data dir has applied entries up to ${applied}, but the cluster's log now starts at ${stream.firstSeq}: copy the data dir of a live node (stopped, or with \`carehub backup\`) here and start again`,
      );
  }
}
