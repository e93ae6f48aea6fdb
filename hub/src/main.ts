import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sessions } from './auth/sessions.js';
import { Broker } from './broker/broker.js';
import { type Clock, ManualClock, SystemClock } from './clock/clock.js';
import { ClusterNode } from './cluster/cluster-node.js';
import type { HubConfig } from './config/schema.js';
import { DRILL_CLOCK_KEY } from './core/applier.js';
import { directoryDiff, openDirectory, seedEntries } from './core/directory-seed.js';
import { type HubCore, openCore } from './core/open-core.js';
import { buildChannels } from './delivery/channels.js';
import type { ComposeParts } from './delivery/compose.js';
import { NotificationSender } from './delivery/sender.js';
import { testSend } from './delivery/test-send.js';
import { ErrorCodes, HubError, isHubError } from './errors.js';
import { FeedServer } from './feed/feed-server.js';
import { DirectoryViews } from './homes/directory-views.js';
import { HomeService } from './homes/home-service.js';
import { HttpServer } from './http/http-server.js';
import { ackRoutes } from './http/routes/ack-routes.js';
import { adminHomeRoutes } from './http/routes/admin-home-routes.js';
import { adminImportRoutes } from './http/routes/admin-import-routes.js';
import { adminStaffRoutes } from './http/routes/admin-staff-routes.js';
import { alertRoutes } from './http/routes/alert-routes.js';
import { authRoutes } from './http/routes/auth-routes.js';
import { checkinRoutes } from './http/routes/checkin-routes.js';
import { clusterRoutes } from './http/routes/cluster-routes.js';
import { homeRoutes } from './http/routes/home-routes.js';
import { notifyRoutes } from './http/routes/notify-routes.js';
import { clockRoutes, opsRoutes } from './http/routes/ops-routes.js';
import { staffRoutes } from './http/routes/staff-routes.js';
import { feedRoute, mqttOverWsRoute } from './http/routes/ws-routes.js';
import { loadCatalog, Messages } from './i18n/messages.js';
import { Ingest } from './ingest/ingest.js';
import { ErasureJob } from './jobs/erasure-job.js';
import { RetentionJob } from './jobs/retention-job.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { linkKey } from './notify/link-token.js';
import { notifyWarnings } from './notify/warnings.js';
import { packageRoot } from './package-root.js';
import { type Directory, directoryDataOf } from './site/directory.js';
import { type HubStore, openStore } from './store/open-store.js';
import { RunRecord } from './store/run-record.js';
import { withoutFsync } from './store/sqlite-db.js';
import { createTimeSeries, type TimeSeries } from './timeseries/index.js';

export interface Ports {
  mqtt: number;
  http: number;
  mqttWs: number;
  /** MQTT over TLS, when `mqtt.tls` is set. */
  mqtts?: number;
  /** HTTPS and WSS, when `http.tls` is set. */
  https?: number;
}

export interface HubOptions {
  logger?: Logger;
  /** Start time for the manual clock (tests); defaults to now. */
  manualClockStart?: number;
  /** Collect Node process metrics (off in tests that run many hubs). */
  processMetrics?: boolean;
  /**
   * Take the data dir's lock (default). Off only for test harnesses that simulate a crash by
   * abandoning a hub in the same process, where the kernel would have dropped the lock.
   */
  lockDataDir?: boolean;
  /** Real time for session expiry (tests move it); defaults to Date.now. */
  realNow?: () => number;
}

/**
 * The composition root: config → store → core (state machine, applier, rules, alerts) → edges
 * (broker, HTTP API, staff feed) and jobs. It only wires: every decision is made in the module it
 * belongs to (docs/architecture.md).
 */
export class Hub {
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly directory: Directory;
  readonly store: HubStore;
  readonly core: HubCore;
  readonly broker: Broker;
  readonly feed: FeedServer;
  readonly http: HttpServer;
  /** Staff logins; `endSessionsOf` ends a removed staff member's sessions (and closes their feeds). */
  readonly sessions: Sessions;
  /** Ships journal and feed_log to InfluxDB; only when config.influx is set (SQLite-only otherwise). */
  readonly timeSeries: TimeSeries | undefined;
  /** This hub as one node of a cluster (config.cluster); undefined when it runs alone. */
  readonly cluster: ClusterNode | undefined;
  /** Sends notifications to contacts (this node performs external effects); only with `notifications`. */
  readonly notifier: NotificationSender | undefined;
  readonly #retention: RetentionJob;
  readonly #erasure: ErasureJob;
  readonly #runs: RunRecord;
  #ports: Ports | undefined;
  #startedAt = 0;
  #coreOpen = false;
  #stopped = false;
  /** Set once this hub wrote ports.json: only the hub that wrote it removes it. */
  #portsFile: string | undefined;

  constructor(
    readonly config: Readonly<HubConfig>,
    options: HubOptions = {},
  ) {
    this.log =
      options.logger ?? createLogger(config.log.level, undefined, { timezone: config.site.timezone });
    if (config.cluster && config.clock === 'manual')
      throw new HubError(
        ErrorCodes.CLUSTER_MANUAL_CLOCK,
        'the drill clock (clock: manual) is for a hub alone: a cluster runs on the system clock',
      );
    this.metrics = new Metrics(options.processMetrics ?? true);
    // Locks the data dir before the database is touched: a second hub would merge into this one's alerts.
    const store = openStore(config.dataDir, this.log, {
      lock: options.lockDataDir !== false,
      walLimitBytes: config.store.walLimitMB * 2 ** 20,
      metrics: this.metrics,
    });
    this.store = store;
    // The directory is the store's once seeded; before that (the first start), the file's until the seed.
    this.directory = openDirectory(config, store);
    this.#runs = new RunRecord(store.meta, Date.now());
    this.metrics.restarts.set({ kind: 'all' }, this.#runs.history.starts);
    this.metrics.restarts.set({ kind: 'unclean' }, this.#runs.history.unclean);
    // A drill continues where it was after a restart: drill time never goes backwards.
    const drillNow = Math.max(Date.now(), store.meta.getNumber(DRILL_CLOCK_KEY, 0));
    this.clock =
      config.clock === 'manual' ? new ManualClock(options.manualClockStart ?? drillNow) : new SystemClock();
    const messages = new Messages(loadCatalog());
    this.core = openCore({
      store,
      directory: this.directory,
      messages,
      clock: this.clock,
      metrics: this.metrics,
      log: this.log,
    });
    const { commands, machine } = this.core;
    const scheduler = this.core.scheduler;
    this.cluster = config.cluster
      ? new ClusterNode(
          config.cluster,
          {
            processedSeq: () => machine.processedSeq(),
            useRemoteLog: (remote) => machine.useRemoteLog(remote),
            // The replicated stream is the durable log: a page applied here needs no fsync. After a
            // power cut the node applies again, from the stream, what its disk had not kept.
            copy: (page) => withoutFsync(store.db, () => machine.copy(page)),
          },
          store.journal,
          {
            // The leader fires timers (those due while no node led fire now, marked late) and
            // makes sure of every home's standing timers, as a single hub does at its start.
            start: () => {
              scheduler.start();
              this.notifier?.start();
              this.#lead().catch((err) => {
                this.log.warn({ err }, 'the start entries of the new leader were not applied');
              });
            },
            // Not the leader any more: no timer fires here, nothing is sent from here.
            stop: () => {
              scheduler.stop();
              this.notifier?.pause();
            },
          },
          (deviceId, message) => {
            if (this.broker.holds(deviceId)) this.broker.publishCommand(deviceId, message);
          },
          this.log.child({ mod: 'cluster' }),
          this.metrics,
        )
      : undefined;
    this.timeSeries = config.influx
      ? createTimeSeries({
          config,
          db: store.db,
          directory: this.directory,
          metrics: this.metrics,
          log: this.log.child({ mod: 'timeseries' }),
          clock: this.clock,
        })
      : undefined;
    this.#retention = new RetentionJob(
      config,
      store.db,
      store.journal,
      store.feedLog,
      this.clock,
      () => machine.processedSeq(),
      this.timeSeries,
      this.log.child({ mod: 'retention' }),
    );

    const ingest = new Ingest(
      config,
      this.directory,
      this.cluster?.deviceLog ?? store.journal,
      this.clock,
      this.metrics,
      this.log.child({ mod: 'ingest' }),
      store.zigbee,
    );
    this.broker = new Broker(
      config,
      this.directory,
      ingest,
      this.metrics,
      this.log.child({ mod: 'broker' }),
      store.fastVerifiers,
    );
    const realNow = options.realNow ?? Date.now;
    // Logins, logouts and their audit rows are log entries like every other change.
    this.sessions = new Sessions(
      store.sessions,
      this.directory,
      config.http.sessionTtlMinutes * 60_000,
      (entry) => machine.submit(entry),
      realNow,
    );
    const sessions = this.sessions;
    const homes = new HomeService(
      this.directory,
      this.core.rules,
      store.devices,
      store.alerts,
      this.clock,
      (e) => machine.submit(e),
    );
    this.feed = new FeedServer(
      config,
      this.directory,
      sessions,
      commands,
      store.alerts,
      store.feedLog,
      this.clock,
      this.metrics,
      this.log.child({ mod: 'feed' }),
      realNow,
    );
    // A logout (or a staff member's removal) closes their feeds at once.
    sessions.onEnded((ended) => this.feed.endSessions(ended));
    this.#erasure = new ErasureJob(store.erasure, this.log.child({ mod: 'erasure' }));
    this.core.effects.attach({
      feed: (entries) => this.feed.broadcast(entries),
      // In a cluster only the leader sends, through the relay, to the node holding the device.
      command: (deviceId, message) =>
        this.cluster
          ? this.cluster.command(deviceId, message)
          : this.broker.publishCommand(deviceId, message),
      // A directory change reaches connections and feeds at once (docs/api.md, "Site administration");
      // a removed staff member's sessions end in the same entry (sessionEnded below).
      directory: (effects) => {
        for (const e of effects) {
          if (e.type === 'device.revoked') this.broker.revoke(e.deviceId);
          else if (e.type === 'staff.rescoped') this.feed.rescope(e.staffId);
          else if (e.type === 'home.erased') this.#erasure.kick();
        }
      },
      sessionEnded: (ended) => sessions.ended(ended),
    });

    // Notifications: the ladder is state (core); sending is this node's effect (docs/notifications.md).
    const n = config.notifications;
    const compose: ComposeParts | undefined = n && {
      config: n,
      messages,
      siteName: config.site.name,
      siteLocale: config.site.locale,
      linkKey: linkKey(n, store.meta),
    };
    const channels = n ? buildChannels(n, config.site.locale) : {};
    this.notifier =
      n && compose
        ? new NotificationSender({
            repo: store.notify,
            alertRepo: store.alerts,
            directory: this.directory,
            config: n,
            compose,
            channels,
            submit: (entry) => machine.submit(entry),
            clock: this.clock,
            log: this.log.child({ mod: 'notify' }),
            onAttempt: (channel, result) => this.metrics.notifyAttempts.inc({ channel, result }),
          })
        : undefined;
    const notifier = this.notifier;
    if (notifier) this.core.effects.attach({ notify: () => notifier.wake() });
    if (config.cluster && n && !n.linkSecret)
      this.log.warn(
        { path: 'notifications.linkSecret' },
        'notifications in a cluster: set linkSecret, the same on every node, or links sent by one leader will not open on the other nodes',
      );
    for (const w of notifyWarnings(config))
      this.log.warn({ path: w.path, problem: w.message }, 'notifications: a contact cannot be reached');

    const clock = this.clock;
    this.http = new HttpServer({
      http: config.http,
      sessions,
      log: this.log.child({ mod: 'http' }),
      consoleRoot: join(packageRoot(), 'dashboards', 'console', 'dist'),
      routes: (app) => {
        authRoutes(app, sessions, !config.http.plaintext, {
          name: config.site.name,
          locale: config.site.locale,
          timezone: config.site.timezone,
        });
        alertRoutes(app, store.alerts, commands, this.directory);
        homeRoutes(app, homes, commands, this.directory, store.journal);
        checkinRoutes(app, homes, commands, this.core.rules, this.directory, clock);
        staffRoutes(app, this.directory, store.audit, commands, store.alerts, clock);
        const views = new DirectoryViews(this.directory, store.devices, store.directory);
        adminHomeRoutes(app, {
          commands,
          directory: this.directory,
          views,
          homes,
          messages,
          endpoints: () => ({ mqtt: this.#ports?.mqtt, mqtts: this.#ports?.mqtts }),
        });
        adminStaffRoutes(app, { commands, directory: this.directory, views, messages });
        adminImportRoutes(app, {
          commands,
          directory: this.directory,
          alerts: store.alerts,
          messages,
          audit: (actor, action, target, data) => commands.audit(actor, action, target, data),
        });
        notifyRoutes(app, {
          repo: store.notify,
          alerts: store.alerts,
          directory: this.directory,
          commands,
          testSend:
            compose &&
            ((homeId, contact, channel) => {
              const home = this.directory.home(homeId);
              if (!home) throw new HubError(ErrorCodes.NOT_FOUND, `no home ${homeId}`);
              return testSend(compose, channels, home, contact, channel);
            }),
        });
        if (n && compose)
          ackRoutes(app, {
            key: compose.linkKey,
            clock,
            alerts: store.alerts,
            notify: store.notify,
            directory: this.directory,
            messages,
            commands,
            publicUrl: n.publicUrl,
            log: this.log.child({ mod: 'ack' }),
          });
        opsRoutes(app, { health: () => this.health() }, this.metrics);
        const cluster = this.cluster;
        if (cluster) clusterRoutes(app, cluster);
        if (clock instanceof ManualClock) {
          clockRoutes(app, clock, (ms) => {
            clock.advance(ms);
            machine.submitNow({ kind: 'clock', at: clock.now() });
          });
        }
        feedRoute(app, this.feed);
        mqttOverWsRoute(app, {
          path: config.mqtt.wsPath,
          plaintext: config.mqtt.plaintext,
          maxPacketBytes: config.mqtt.maxPacketBytes,
          handle: (stream, remote) => this.broker.handle(stream, remote),
        });
      },
    });
  }

  get ports(): Ports {
    if (!this.#ports) throw new Error('hub not started');
    return this.#ports;
  }

  /**
   * The core without listeners: apply what the log holds beyond the last applied entry (after a
   * crash), record this start, arm the timers (those that fell due meanwhile fire now, late).
   */
  openCore(): void {
    if (this.#coreOpen) return;
    this.#coreOpen = true;
    this.#startedAt = Date.now();
    const { machine, soft, scheduler } = this.core;
    const recovered = soft.recover();
    if (recovered > 0) this.log.info({ rows: recovered }, 'last-seen state recovered from the journal');
    const backlog = this.store.journal.lastSeq() - machine.processedSeq();
    machine.drain();
    if (backlog > 0) this.log.info({ rows: backlog }, 'journal replayed after restart');
    // In a cluster the leader does these, once it leads and has applied the whole log (#lead).
    if (!this.cluster) {
      this.#seedOrCompareDirectory();
      machine.submitNow({ kind: 'start', at: this.clock.now() });
      const timers = scheduler.start();
      this.log.info({ timers }, 'timers armed');
    }
    const head = this.store.audit.verify();
    if (!head.ok)
      this.log.error(
        { problems: head.problems.slice(0, 5) },
        'AUDIT TRAIL DOES NOT VERIFY: run `carehub audit verify`',
      );
    this.log.info({ rows: head.rows, head: `${head.headSeq}:${head.headHash}` }, 'audit trail head');
  }

  /**
   * The first start of a data dir seeds the directory from the configuration file (log entries, so a
   * replay rebuilds it); from then on the store is the truth, and a file that says otherwise is
   * named in a warning (docs/configuration.md, "The site directory").
   */
  #seedOrCompareDirectory(): void {
    const repo = this.store.directory;
    const seededAt = repo.seededAt();
    if (seededAt === undefined) {
      this.core.machine.submitAllNow(seedEntries(this.config, this.clock.now()));
      this.log.info(
        { homes: this.directory.homes().length, staff: this.directory.allStaff().length },
        'site directory seeded from the configuration file; from now on it is changed through the admin API and console',
      );
      return;
    }
    this.#compareDirectory();
  }

  /** A configuration file that says otherwise than the store's directory is named in a warning. */
  #compareDirectory(): void {
    const seededAt = this.store.directory.seededAt();
    const diff = directoryDiff(directoryDataOf(this.config), this.directory.data());
    const n = diff.onlyInFile.length + diff.onlyInStore.length + diff.differ.length;
    if (n === 0) return;
    const few = (list: string[]) => list.slice(0, 10).join(', ') + (list.length > 10 ? ', …' : '');
    this.log.warn(
      {
        onlyInFile: few(diff.onlyInFile),
        onlyInStore: few(diff.onlyInStore),
        differ: few(diff.differ),
      },
      `the configuration file's homes, devices, staff or grids differ from the store's in ${n} record(s); the store's are in force (seeded at entry ${seededAt}). Apply the file with \`carehub import --config FILE\`, or change the site through the admin API and console`,
    );
  }

  /**
   * A cluster node that became the leader (and applied the whole log): a new cluster's directory
   * seeded from the configuration file, then the `start` entry (every home's standing timers made
   * sure of), as a single hub does at each start.
   */
  async #lead(): Promise<void> {
    const machine = this.core.machine;
    if (this.store.directory.seededAt() === undefined) {
      for (const entry of seedEntries(this.config, this.clock.now())) await machine.submit(entry);
      this.log.info(
        { homes: this.directory.homes().length, staff: this.directory.allStaff().length },
        'site directory seeded from the configuration file (a new cluster)',
      );
    }
    await machine.submit({ kind: 'start', at: this.clock.now() });
  }

  async start(): Promise<Ports> {
    this.openCore();
    if (this.cluster) {
      try {
        // Caught up with the replicated log before any device or staff member is let in.
        await this.cluster.start();
      } catch (err) {
        await this.stop().catch(() => {});
        throw err;
      }
      if (this.store.directory.seededAt() !== undefined) this.#compareDirectory();
    }
    this.#retention.start();
    this.#erasure.start();
    this.core.soft.start();
    this.store.checkpointer.start();
    this.feed.start();
    this.timeSeries?.start();
    // In a cluster only the leader sends notifications (ClusterNode's leader work).
    if (!this.cluster) this.notifier?.start();
    let mqtt: number;
    let http: number;
    let https: number | undefined;
    try {
      mqtt = await this.broker.start();
      // http.plaintext: false: HTTPS only (port 0 stands for "not listening" in the ports object).
      http = this.config.http.plaintext
        ? await this.http.listen(this.config.http.port, this.config.http.host)
        : 0;
      if (this.config.http.tls)
        https = await this.http.listenTls(this.config.http.tls, this.config.http.host);
    } catch (err) {
      await this.stop().catch(() => {});
      if (isHubError(err)) throw err; // e.g. an unreadable TLS file: HUB_ERR_CONFIG_UNREADABLE, by setting path
      const e = err as NodeJS.ErrnoException;
      const hint =
        e.code === 'EADDRINUSE'
          ? ' (the port is taken: stop the other process or set CAREHUB_MQTT_PORT / CAREHUB_HTTP_PORT)'
          : '';
      throw new HubError(ErrorCodes.LISTEN_FAILED, `cannot listen: ${e.message}${hint}`, { cause: err });
    }
    const mqtts = this.broker.tlsPort;
    this.#ports = {
      mqtt,
      http,
      mqttWs: http,
      ...(mqtts !== undefined ? { mqtts } : {}),
      ...(https !== undefined ? { https } : {}),
    };
    this.#writePortsFile(this.#ports);
    this.cluster?.setPorts({ http: http || null, mqtt });
    this.log.info(
      {
        ...this.#ports,
        mqttWsPath: this.config.mqtt.wsPath,
        site: this.config.site.name,
        clock: this.clock.kind,
      },
      'CareHub listening',
    );
    if (this.config.demo)
      this.log.warn(
        'DEMO configuration: demo credentials are in use; never run this configuration for real residents',
      );
    return this.#ports;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#retention.stop();
    this.#erasure.stop();
    this.core.scheduler.stop();
    this.notifier?.stop();
    this.core.machine.stop();
    if (this.#portsFile) rmSync(this.#portsFile, { force: true });
    this.feed.stop();
    await this.http.close();
    await this.broker.stop();
    await this.cluster?.stop();
    this.store.journal.close();
    this.core.machine.drain();
    this.core.soft.stop();
    await this.timeSeries?.stop();
    await this.store.checkpointer.stop();
    this.#runs.stopped();
    this.store.close();
    this.log.info('CareHub stopped');
  }

  /** A fatal error is about to end the process (cli's process policy): recorded for the next start. */
  recordCrash(reason: string): void {
    if (this.store.db.open) this.#runs.recordCrash(Date.now(), reason);
  }

  health(): { status: 'ok' | 'degraded' | 'unavailable'; checks: Record<string, unknown> } {
    const lag = this.store.journal.lastSeq() - this.core.machine.processedSeq();
    const timeSeries = this.timeSeries?.health();
    const cluster = this.cluster?.status();
    const degraded = lag > 10_000 || timeSeries?.reachable === false || cluster?.lagging === true;
    return {
      // A cluster node without NATS cannot acknowledge anything: the balancer sends devices elsewhere.
      // A new cluster's node also waits for the first leader to seed the directory (devices unknown until then).
      status:
        cluster && (!cluster.ready || this.store.directory.seededAt() === undefined)
          ? 'unavailable'
          : degraded
            ? 'degraded'
            : 'ok',
      ...(cluster
        ? {
            cluster: {
              node: cluster.node,
              leader: cluster.leader,
              applied: cluster.applied,
              lagging: cluster.lagging,
            },
          }
        : {}),
      checks: {
        ...(timeSeries ? { timeSeries } : {}),
        uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
        store: { backend: 'sqlite', ok: this.store.db.open },
        journal: { lastSeq: this.store.journal.lastSeq(), lagRows: lag },
        mqtt: {
          connectedClients: this.broker.aedes.connectedClients,
          ...(this.broker.fit
            ? { aedes: { installed: this.broker.fit.installed, adaptations: this.broker.fit.adaptations } }
            : {}),
        },
        feed: { clients: this.feed.clientCount(), seq: this.store.feedLog.currentSeq() },
        clock: this.clock.kind,
        restarts: this.#restartsForHealth(),
      },
    };
  }

  #restartsForHealth(): Record<string, unknown> {
    const h = this.#runs.history;
    return {
      starts: h.starts,
      unclean: h.unclean,
      lastUncleanAt: h.lastUncleanAt === null ? null : new Date(h.lastUncleanAt).toISOString(),
      lastCrash: h.lastCrash && { at: new Date(h.lastCrash.at).toISOString(), reason: h.lastCrash.reason },
    };
  }

  /** Atomically; listeners refused by configuration (plaintext off) are left out. */
  #writePortsFile(ports: Ports): void {
    const file = join(this.config.dataDir, 'ports.json');
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify(Object.fromEntries(Object.entries(ports).filter(([, port]) => port !== 0))),
    );
    renameSync(`${file}.tmp`, file);
    this.#portsFile = file;
  }
}
