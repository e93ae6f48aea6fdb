import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { type AlertChange, AlertService } from './alerts/alert-service.js';
import { commandsFor } from './alerts/device-notifier.js';
import { StaffActions } from './alerts/staff-actions.js';
import { AuditLog } from './audit/audit-log.js';
import { Sessions } from './auth/sessions.js';
import { Broker } from './broker/broker.js';
import { type Clock, ManualClock, SystemClock, type TimerHandle } from './clock/clock.js';
import type { HubConfig } from './config/schema.js';
import { ErrorCodes, HubError, isHubError } from './errors.js';
import { type FeedEntry, FeedLog } from './feed/feed-log.js';
import { FeedServer } from './feed/feed-server.js';
import { HomeService } from './homes/home-service.js';
import { HttpServer } from './http/http-server.js';
import { Router } from './http/router.js';
import { alertRoutes } from './http/routes/alert-routes.js';
import { authRoutes } from './http/routes/auth-routes.js';
import { homeRoutes } from './http/routes/home-routes.js';
import { clockRoutes, opsRoutes } from './http/routes/ops-routes.js';
import { staffRoutes } from './http/routes/staff-routes.js';
import { staticHandler } from './http/static-files.js';
import { loadCatalog, Messages } from './i18n/messages.js';
import { Ingest } from './ingest/ingest.js';
import { Journal } from './ingest/journal.js';
import { type ProcessedBatch, Processor } from './ingest/processor.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { packageRoot } from './package-root.js';
import { ALL_RULES } from './rules/all-rules.js';
import { HomeStateRepo } from './rules/home-state.js';
import { LAST_SEEN_WRITE_MS, RulesRuntime } from './rules/runtime.js';
import { Scheduler } from './rules/scheduler.js';
import { type TimerRow, TimerStore } from './rules/timer-store.js';
import { Directory } from './site/directory.js';
import { AlertRepo } from './store/alert-repo.js';
import { Checkpointer } from './store/checkpointer.js';
import { DeviceStateRepo } from './store/device-state-repo.js';
import { FastVerifierRepo } from './store/fast-verifier-repo.js';
import { trimLocal } from './store/retention.js';
import { type Db, Meta, openDatabase, withoutFsync } from './store/sqlite-db.js';
import { formatIso } from './time/iso.js';
import { createTimeSeries, type TimeSeries } from './timeseries/index.js';

const DRILL_CLOCK_KEY = 'drill_clock_now';
/** How often heartbeat-driven state (device and home lastSeen, rssi) is written: what a crash can lose of it. */
const SOFT_STATE_FLUSH_MS = LAST_SEEN_WRITE_MS;
const SOFT_STATE_SLICE = 500;

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
}

/** The composition root: config → store → broker → rules → alerts → http/ws. Constructors wire; start() acts. */
export class Hub {
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly directory: Directory;
  readonly db: Db;
  readonly journal: Journal;
  readonly alertRepo: AlertRepo;
  readonly alerts: AlertService;
  readonly processor: Processor;
  readonly broker: Broker;
  readonly feed: FeedServer;
  readonly http: HttpServer;
  readonly feedLog: FeedLog;
  readonly devices: DeviceStateRepo;
  readonly scheduler: Scheduler;
  readonly audit: AuditLog;
  readonly rules: RulesRuntime;
  /** Ships journal and feed_log to InfluxDB; only when config.influx is set (SQLite-only otherwise). */
  readonly timeSeries: TimeSeries | undefined;
  #ports: Ports | undefined;
  #trimTimer: TimerHandle | undefined;
  #writeBehind: NodeJS.Timeout | undefined;
  #softFlushing = false;
  readonly #checkpointer: Checkpointer;
  #startedAt = 0;
  #stopped = false;
  #homeStates: HomeStateRepo;
  readonly #fastVerifiers: FastVerifierRepo;

  constructor(
    readonly config: Readonly<HubConfig>,
    options: HubOptions = {},
  ) {
    this.log = options.logger ?? createLogger(config.log.level);
    this.metrics = new Metrics(options.processMetrics ?? true);
    this.directory = new Directory(config);
    const messages = new Messages(loadCatalog());

    this.db = openDatabase(config.dataDir);
    this.#checkpointer = new Checkpointer(this.db, this.log.child({ mod: 'store' }));
    const meta = new Meta(this.db);
    // A drill continues where it was after a restart: drill time never goes backwards.
    const drillNow = Math.max(Date.now(), meta.getNumber(DRILL_CLOCK_KEY, 0));
    this.clock =
      config.clock === 'manual' ? new ManualClock(options.manualClockStart ?? drillNow) : new SystemClock();
    this.journal = new Journal(this.db, this.log.child({ mod: 'journal' }));
    this.alertRepo = new AlertRepo(this.db);
    this.feedLog = new FeedLog(this.db);
    this.devices = new DeviceStateRepo(this.db);
    this.timeSeries = config.influx
      ? createTimeSeries({
          config,
          db: this.db,
          directory: this.directory,
          metrics: this.metrics,
          log: this.log.child({ mod: 'timeseries' }),
          clock: this.clock,
        })
      : undefined;
    this.audit = new AuditLog(this.db);
    this.scheduler = new Scheduler(this.clock, new TimerStore(this.db), (timer, late) =>
      this.#onTimer(timer, late),
    );
    this.alerts = new AlertService(
      this.db,
      this.alertRepo,
      this.feedLog,
      this.directory,
      messages,
      this.clock,
      this.metrics,
      this.scheduler,
      meta,
    );
    const homeStates = new HomeStateRepo(this.db);
    this.#homeStates = homeStates;
    this.rules = new RulesRuntime(
      this.directory,
      homeStates,
      this.scheduler,
      this.alerts,
      this.alertRepo,
      ALL_RULES,
      this.log.child({ mod: 'rules' }),
    );
    this.processor = new Processor(
      this.db,
      meta,
      this.journal,
      this.directory,
      this.rules,
      this.devices,
      this.feedLog,
      this.metrics,
      this.log.child({ mod: 'processor' }),
      (batch) => this.#dispatchBatch(batch),
      () => this.#forgetRolledBack(),
    );
    this.journal.onCommit(() => this.processor.drain());

    const ingest = new Ingest(
      config,
      this.directory,
      this.journal,
      this.clock,
      this.metrics,
      this.log.child({ mod: 'ingest' }),
    );
    const brokerLog = this.log.child({ mod: 'broker' });
    this.#fastVerifiers = new FastVerifierRepo(this.db, (err) =>
      brokerLog.warn({ err: err.message }, 'could not keep fast verifiers of device secrets'),
    );
    this.broker = new Broker(config, this.directory, ingest, this.metrics, brokerLog, this.#fastVerifiers);

    const sessions = new Sessions(
      this.db,
      this.directory,
      config.http.sessionTtlMinutes * 60_000,
      this.audit,
    );
    const actions = new StaffActions(
      this.db,
      this.alerts,
      this.audit,
      this.clock,
      (changes) => this.#dispatch(changes, []),
      () => this.#forgetRolledBack(),
    );
    const homes = new HomeService(
      this.db,
      this.directory,
      this.rules,
      this.devices,
      this.alertRepo,
      this.feedLog,
      this.audit,
      this.clock,
      (entries) => this.#dispatch([], entries),
      () => this.#forgetRolledBack(),
    );
    this.feed = new FeedServer(
      config,
      this.directory,
      sessions,
      actions,
      this.alertRepo,
      this.feedLog,
      this.clock,
      this.metrics,
      this.log.child({ mod: 'feed' }),
    );

    const router = new Router();
    authRoutes(router, sessions, !config.http.plaintext, {
      name: config.site.name,
      locale: config.site.locale,
      timezone: config.site.timezone,
    });
    alertRoutes(router, this.alertRepo, actions, this.directory);
    homeRoutes(router, homes, this.directory, this.journal);
    staffRoutes(router, this.directory, this.audit, this.alertRepo, this.clock);
    opsRoutes(router, { health: () => this.health() }, this.metrics);
    if (this.clock.kind === 'manual') {
      const clock = this.clock as ManualClock;
      clockRoutes(router, clock, (ms) => {
        clock.advance(ms);
        meta.set(DRILL_CLOCK_KEY, clock.now());
      });
    }
    this.http = new HttpServer(
      router,
      sessions,
      config.http.maxBodyBytes,
      this.log.child({ mod: 'http' }),
      staticHandler(join(packageRoot(), 'dashboards', 'console', 'dist')),
    );
    this.http.onUpgrade('/api/v1/feed', (req, socket, head) => this.feed.handleUpgrade(req, socket, head));
    const mqttWs = new WebSocketServer({
      noServer: true,
      maxPayload: config.mqtt.maxPacketBytes + 16,
      handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
    });
    this.http.onUpgrade(config.mqtt.wsPath, (req, socket, head) =>
      !config.mqtt.plaintext && !(req.socket as TLSSocket).encrypted
        ? void socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n') // mqtt.plaintext: false: WSS only
        : mqttWs.handleUpgrade(req, socket, head, (ws) =>
            this.broker.handle(createWebSocketStream(ws), req.socket.remoteAddress ?? 'ws'),
          ),
    );
  }

  get ports(): Ports {
    if (!this.#ports) throw new Error('hub not started');
    return this.#ports;
  }

  async start(): Promise<Ports> {
    this.#startedAt = Date.now();
    this.feedLog.openEpoch();
    // Catch up on everything accepted before a crash, before taking new connections.
    const backlog = this.journal.lastSeq() - this.processor.processedSeq();
    this.processor.drain();
    if (backlog > 0) this.log.info({ rows: backlog }, 'journal replayed after restart');
    // Timers that fell due while the hub was down fire now, in order, marked late.
    this.db.transaction(() => this.rules.ensureAll(this.clock.now()))();
    const timers = this.scheduler.start();
    this.log.info({ timers }, 'timers armed');
    const head = this.audit.verify();
    if (!head.ok)
      this.log.error(
        { problems: head.problems.slice(0, 5) },
        'AUDIT TRAIL DOES NOT VERIFY: run `carehub audit verify`',
      );
    this.log.info({ rows: head.rows, head: head.headHash }, 'audit trail head');
    this.#trimFeedLog();
    this.#scheduleRetention();
    this.#writeBehind = setInterval(() => this.#flushSoftState(), SOFT_STATE_FLUSH_MS).unref();
    this.#checkpointer.start();
    this.feed.start();
    this.timeSeries?.start();
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
    const file = join(this.config.dataDir, 'ports.json');
    // Listeners refused by configuration (plaintext off) are left out of the file.
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify(Object.fromEntries(Object.entries(this.#ports).filter(([, port]) => port !== 0))),
    );
    renameSync(`${file}.tmp`, file);
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
    this.#trimTimer?.cancel();
    this.scheduler.stop();
    this.processor.stop();
    rmSync(join(this.config.dataDir, 'ports.json'), { force: true });
    this.feed.stop();
    await this.http.close();
    await this.broker.stop();
    this.#fastVerifiers.flush();
    this.journal.close();
    this.processor.drain();
    clearInterval(this.#writeBehind);
    this.#flushSoftState(Number.POSITIVE_INFINITY);
    await this.timeSeries?.stop();
    await this.#checkpointer.stop();
    this.db.close();
    this.log.info('CareHub stopped');
  }

  /** Keep feed.retainEvents entries, and never trim feed_log rows the time-series shipper has not shipped yet. */
  /** Hourly on the hub's clock, so a drill that plays a month also exercises retention. */
  #scheduleRetention(): void {
    this.#trimTimer = this.clock.at(this.clock.now() + 3600_000, () => {
      if (this.#stopped) return;
      try {
        this.#trimFeedLog();
      } catch (err) {
        this.log.error({ err }, 'retention job failed');
      }
      this.#scheduleRetention();
    });
  }

  #trimFeedLog(): void {
    const retain = this.config.feed.retainEvents;
    const floor = this.timeSeries?.retainFloor();
    this.feedLog.trim(floor === undefined ? retain : Math.max(retain, this.feedLog.currentSeq() - floor + 1));
    const processed = this.processor.processedSeq();
    const keepAfter = Math.min(processed, this.timeSeries?.journalShipped() ?? processed);
    const trimmed = trimLocal(this.db, this.clock.now(), this.config.retention, keepAfter);
    if (trimmed.journal + trimmed.deadLetters > 0)
      this.log.info(trimmed, 'retention: old device events and dead letters deleted');
  }

  health(): { status: 'ok' | 'degraded'; checks: Record<string, unknown> } {
    const lag = this.journal.lastSeq() - this.processor.processedSeq();
    const timeSeries = this.timeSeries?.health();
    return {
      status: lag > 10_000 || timeSeries?.reachable === false ? 'degraded' : 'ok',
      checks: {
        ...(timeSeries ? { timeSeries } : {}),
        uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
        store: { backend: 'sqlite', ok: this.db.open },
        journal: { lastSeq: this.journal.lastSeq(), lagRows: lag },
        mqtt: { connectedClients: this.broker.aedes.connectedClients },
        feed: { clients: this.feed.clientCount(), seq: this.feedLog.currentSeq() },
        clock: this.clock.kind,
      },
    };
  }

  /**
   * State that moves with every heartbeat (device and home lastSeen, rssi) is written behind, in
   * slices of SOFT_STATE_SLICE rows, one transaction and one turn each, so ingest never stops for a
   * whole site's worth of upserts. Those commits skip their own fsync (write-behind data: the next
   * journal commit's fsync covers them). At stop, everything at once.
   */
  #flushSoftState(slice = SOFT_STATE_SLICE): void {
    if (this.#softFlushing && slice !== Number.POSITIVE_INFINITY) return;
    let more = false;
    withoutFsync(this.db, () => {
      try {
        more = this.devices.flushSoft(slice) > 0;
      } catch (err) {
        this.log.error({ err }, 'writing device last-seen state failed; will retry');
      }
      try {
        more = this.rules.flush(slice) >= slice || more;
      } catch (err) {
        this.log.error({ err }, 'writing home state (last seen) failed; will retry');
      }
    });
    this.#softFlushing = more && !this.#stopped;
    if (this.#softFlushing) setImmediate(() => this.#continueSoftFlush());
  }

  #continueSoftFlush(): void {
    this.#softFlushing = false;
    if (!this.#stopped) this.#flushSoftState();
  }

  /** A persisted timer fell due: one transaction, then fan-out. */
  #onTimer(timer: TimerRow, late: boolean): void {
    let changes: AlertChange[] = [];
    let extra: FeedEntry[] = [];
    try {
      this.db.transaction(() => {
        const now = this.clock.now();
        if (timer.data.owner === 'alert') {
          const change = this.alerts.onTimer(timer, now);
          changes = change ? [change] : [];
        } else if (timer.data.owner === 'mode') {
          this.scheduler.cancel(timer.key);
          extra = [
            this.#modeEntry(
              timer.homeId,
              this.rules.setMode(timer.homeId, 'home', null, now).mode,
              null,
              now,
            ),
          ];
        } else {
          changes = this.rules.onTimer(timer, now, late);
        }
      })();
    } catch (err) {
      this.#forgetRolledBack();
      this.log.error({ err, timer: timer.key }, 'timer handling failed; retrying in 5 s');
      // The transaction rolled back, so the timer row is still there: arm it again.
      this.scheduler.set({ ...timer, dueAt: this.clock.now() + 5000 });
      return;
    }
    this.#dispatch(changes, extra);
  }

  #modeEntry(homeId: string, mode: string, until: number | null, now: number): FeedEntry {
    const tz = this.directory.timezoneOf(homeId);
    return this.feedLog.append(now, 'home', homeId, {
      type: 'home',
      home: { id: homeId, mode, until: until === null ? null : formatIso(until, tz) },
    });
  }

  #dispatchBatch(batch: ProcessedBatch): void {
    this.#dispatch(batch.alertChanges, batch.deviceEntries);
  }

  /**
   * A transaction that wrote through the rules' caches rolled back: home states and the timer mirror
   * (with its armed clock timers) are read again from the tables.
   */
  #forgetRolledBack(): void {
    this.#homeStates.invalidate();
    this.scheduler.invalidate();
  }

  /** After commit: feed fan-out in seq order, then device commands. Failures here never undo a commit. */
  #dispatch(changes: AlertChange[], deviceEntries: FeedEntry[]): void {
    const entries = [...changes.map((c) => c.feed), ...deviceEntries].sort((a, b) => a.seq - b.seq);
    try {
      this.feed.broadcast(entries);
    } catch (err) {
      this.log.error({ err }, 'feed broadcast failed');
    }
    for (const change of changes) {
      for (const cmd of commandsFor(change, this.directory))
        this.broker.publishCommand(cmd.deviceId, cmd.message);
    }
  }
}
