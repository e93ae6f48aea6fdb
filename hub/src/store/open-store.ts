import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { AlertRepo } from './alert-repo.js';
import { AuditLog } from './audit-log.js';
import { Checkpointer } from './checkpointer.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { DeadLetterRepo } from './dead-letter-repo.js';
import { DeviceStateRepo } from './device-state-repo.js';
import { DirectoryRepo } from './directory-repo.js';
import { FastVerifierRepo } from './fast-verifier-repo.js';
import { FeedLog } from './feed-log.js';
import { HomeErasure } from './home-erasure.js';
import { HomeRhythmRepo } from './home-rhythm-repo.js';
import { HomeStateRepo } from './home-state-repo.js';
import { Journal } from './journal.js';
import { NotifyRepo } from './notify-repo.js';
import { SessionRepo } from './session-repo.js';
import { type Db, Meta, openDatabase } from './sqlite-db.js';
import { TimerStore } from './timer-store.js';
import { UnitOfWork } from './unit-of-work.js';
import { ZigbeeStateRepo } from './zigbee-state-repo.js';

/** Everything the hub keeps, behind one narrow interface per kind of state. */
export interface HubStore {
  readonly db: Db;
  readonly uow: UnitOfWork;
  readonly journal: Journal;
  readonly meta: Meta;
  readonly alerts: AlertRepo;
  readonly feedLog: FeedLog;
  readonly devices: DeviceStateRepo;
  readonly homeStates: HomeStateRepo;
  /** Each home's learned quiet spells and check-in record. */
  readonly rhythms: HomeRhythmRepo;
  readonly timers: TimerStore;
  readonly audit: AuditLog;
  /** Staff login sessions (by their token's hash). */
  readonly sessions: SessionRepo;
  /** Device messages the hub rejected (ingest writes them through the journal). */
  readonly deadLetters: DeadLetterRepo;
  /** What the hub kept of each Zigbee2MQTT device's last report. */
  readonly zigbee: ZigbeeStateRepo;
  /** The site directory's tables and change history. */
  readonly directory: DirectoryRepo;
  /** Erasing a home's log rows, in steps. */
  readonly erasure: HomeErasure;
  /** Notifications to contacts: the outbox, attempts, contacts going. */
  readonly notify: NotifyRepo;
  readonly checkpointer: Checkpointer;
  /** Fast verifiers of hub-made device secrets whose configured hash is scrypt (written behind). */
  readonly fastVerifiers: FastVerifierRepo;
  /** Close the database and give the data dir up. */
  close(): void;
}

/**
 * Lock the data dir (one hub per data dir, before the database is touched), open the database and
 * make the repositories, their caches registered with the unit of work.
 */
export interface StoreOptions {
  /** Take the data dir's lock (default). */
  lock?: boolean;
  /** Bound of the write-ahead log (store.walLimitMB): checkpoints restart it before it grows past. */
  walLimitBytes?: number;
  /** Where the checkpointer reports WAL size, restarts and holds. */
  metrics?: Metrics;
}

export function openStore(dataDir: string, log: Logger, options: StoreOptions = {}): HubStore {
  const lock: DataDirLock = options.lock === false ? { release() {} } : lockDataDir(dataDir);
  let db: Db;
  try {
    db = openDatabase(dataDir);
  } catch (err) {
    lock.release();
    throw err;
  }
  const uow = new UnitOfWork(db);
  const devices = new DeviceStateRepo(db);
  const homeStates = new HomeStateRepo(db);
  const zigbee = new ZigbeeStateRepo(db);
  const rhythms = new HomeRhythmRepo(db);
  uow.register(devices);
  uow.register(homeStates);
  uow.register(zigbee);
  uow.register(rhythms);
  const meta = new Meta(db);
  const journal = new Journal(db, uow, log.child({ mod: 'journal' }));
  const brokerLog = log.child({ mod: 'broker' });
  const fastVerifiers = new FastVerifierRepo(db, (err) =>
    brokerLog.warn({ err: err.message }, 'could not keep fast verifiers of device secrets'),
  );
  return {
    db,
    uow,
    journal,
    meta,
    alerts: new AlertRepo(db),
    feedLog: new FeedLog(db),
    devices,
    homeStates,
    rhythms,
    timers: new TimerStore(db),
    audit: new AuditLog(db),
    deadLetters: new DeadLetterRepo(db),
    sessions: new SessionRepo(db),
    zigbee,
    directory: new DirectoryRepo(db, meta),
    erasure: new HomeErasure(db),
    checkpointer: new Checkpointer(db, log.child({ mod: 'store' }), {
      ...(options.walLimitBytes === undefined ? {} : { walLimitBytes: options.walLimitBytes }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      // The checkpointer holds journal commits for a moment to restart the WAL.
      gate: journal,
    }),
    fastVerifiers,
    notify: new NotifyRepo(db),
    close() {
      fastVerifiers.flush();
      if (db.open) db.close();
      lock.release();
    },
  };
}
