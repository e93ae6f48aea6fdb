import type { Logger } from '../log.js';
import { AlertRepo } from './alert-repo.js';
import { AuditLog } from './audit-log.js';
import { Checkpointer } from './checkpointer.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { DeviceStateRepo } from './device-state-repo.js';
import { FeedLog } from './feed-log.js';
import { HomeRhythmRepo } from './home-rhythm-repo.js';
import { HomeStateRepo } from './home-state-repo.js';
import { Journal } from './journal.js';
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
  /** What the hub kept of each Zigbee2MQTT device's last report. */
  readonly zigbee: ZigbeeStateRepo;
  readonly checkpointer: Checkpointer;
  /** Close the database and give the data dir up. */
  close(): void;
}

/**
 * Lock the data dir (one hub per data dir, before the database is touched), open the database and
 * make the repositories, their caches registered with the unit of work.
 */
export function openStore(dataDir: string, log: Logger, options: { lock?: boolean } = {}): HubStore {
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
  return {
    db,
    uow,
    journal: new Journal(db, uow, log.child({ mod: 'journal' })),
    meta: new Meta(db),
    alerts: new AlertRepo(db),
    feedLog: new FeedLog(db),
    devices,
    homeStates,
    rhythms,
    timers: new TimerStore(db),
    audit: new AuditLog(db),
    zigbee,
    checkpointer: new Checkpointer(db, log.child({ mod: 'store' })),
    close() {
      if (db.open) db.close();
      lock.release();
    },
  };
}
