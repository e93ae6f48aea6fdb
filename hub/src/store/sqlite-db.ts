import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, HubError } from '../errors.js';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order and recorded in `user_version`. Append only: a released
 * migration is never edited.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    home_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    type TEXT NOT NULL,
    event_id TEXT,
    mqtt_mid INTEGER,
    payload TEXT NOT NULL
  );
  CREATE UNIQUE INDEX journal_event_id ON journal(device_id, event_id) WHERE event_id IS NOT NULL;
  CREATE INDEX journal_mid ON journal(device_id, mqtt_mid) WHERE mqtt_mid IS NOT NULL;
  CREATE TABLE dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    home_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    merge_key TEXT NOT NULL,
    raised_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX alerts_open ON alerts(merge_key) WHERE status != 'resolved';
  CREATE INDEX alerts_raised ON alerts(raised_at DESC, id DESC);
  CREATE TABLE feed_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    home_id TEXT NOT NULL,
    data TEXT NOT NULL
  );
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE device_state (
    device_id TEXT PRIMARY KEY,
    online INTEGER,
    battery REAL,
    battery_low INTEGER,
    rssi REAL,
    last_seen INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE timers (
    key TEXT PRIMARY KEY,
    home_id TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX timers_due ON timers(due_at);
  CREATE TABLE home_state (home_id TEXT PRIMARY KEY, data TEXT NOT NULL);
  CREATE INDEX alerts_home_raised ON alerts(home_id, raised_at);
  `,
  `
  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_at ON audit(at);
  CREATE INDEX journal_device_time ON journal(device_id, received_at);
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  `,
  // Per-device indexes cost a random page write per row: journal_mid is used by no query (the
  // redelivery check reads a device's latest rows through journal_device_time), and heartbeats
  // enter the other two only when `indexed` (one per device per 10 min; ingest/heartbeat-index.ts).
  `
  DROP INDEX journal_mid;
  ALTER TABLE journal ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1;
  DROP INDEX journal_event_id;
  DROP INDEX journal_device_time;
  CREATE UNIQUE INDEX journal_event_id ON journal(device_id, event_id) WHERE event_id IS NOT NULL AND indexed = 1;
  CREATE INDEX journal_device_time ON journal(device_id, received_at) WHERE indexed = 1;
  `,
  // What the hub kept of each Zigbee2MQTT device's last report (store/zigbee-state-repo.ts).
  `
  CREATE TABLE zigbee_state (
    device_id TEXT PRIMARY KEY,
    memory TEXT NOT NULL,
    seq INTEGER NOT NULL
  );
  `,
  // Notifications to contacts (store/notify-repo.ts): one outbox row per (alert, step, contact,
  // channel), every attempt at it, and the contacts who said they are going.
  `
  CREATE TABLE notify_outbox (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    home_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_error TEXT
  );
  CREATE INDEX notify_outbox_pending ON notify_outbox(next_at) WHERE status = 'pending';
  CREATE INDEX notify_outbox_alert ON notify_outbox(alert_id);
  CREATE TABLE notify_attempts (
    row_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (row_id, attempt)
  );
  CREATE INDEX notify_attempts_alert ON notify_attempts(alert_id);
  CREATE TABLE notify_going (
    alert_id TEXT NOT NULL,
    contact INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (alert_id, contact)
  );
  `,
  // The site directory (store/directory-repo.ts), written by the applier from `directory` entries;
  // `pos`, `idx`: the entry and op that created the record, the order lists keep.
  `
  CREATE TABLE dir_grids (id TEXT PRIMARY KEY, pos INTEGER NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL);
  CREATE TABLE dir_homes (
    id TEXT PRIMARY KEY, grid TEXT NOT NULL, pos INTEGER NOT NULL, idx INTEGER NOT NULL,
    data TEXT NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE TABLE dir_devices (
    id TEXT PRIMARY KEY, home_id TEXT NOT NULL, pos INTEGER NOT NULL, idx INTEGER NOT NULL,
    data TEXT NOT NULL, secret_hash TEXT, secret_at INTEGER, updated_at INTEGER NOT NULL
  );
  CREATE INDEX dir_devices_home ON dir_devices(home_id);
  CREATE TABLE dir_staff (
    id TEXT PRIMARY KEY, pos INTEGER NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL,
    password_hash TEXT NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE TABLE dir_changes (
    position INTEGER NOT NULL, idx INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
    op TEXT NOT NULL, target TEXT NOT NULL, home_id TEXT, before TEXT, after TEXT,
    PRIMARY KEY (position, idx)
  );
  CREATE INDEX dir_changes_home ON dir_changes(home_id) WHERE home_id IS NOT NULL;
  CREATE INDEX dir_changes_target ON dir_changes(target);
  CREATE TABLE erase_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, home_id TEXT NOT NULL, devices TEXT NOT NULL,
    before_seq INTEGER NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, requested_at INTEGER NOT NULL
  );
  `,
  // Each home's learned quiet spells and check-in record (store/home-rhythm-repo.ts).
  `
  CREATE TABLE home_rhythm (home_id TEXT PRIMARY KEY, data TEXT NOT NULL);
  `,
];

export function openDatabase(dataDir: string, file = 'hub.db'): Db {
  try {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, file));
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the PUBACK that depends on it (PROTOCOL.md delivery promise).
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    throw new HubError(
      ErrorCodes.STORE_UNAVAILABLE,
      `cannot open the SQLite database in ${dataDir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this hub (${MIGRATIONS.length}); upgrade the hub`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v];
    if (sql === undefined) continue;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * Run `fn` with `synchronous=NORMAL`: its commits reach the WAL and wait for the next fsync. Only
 * for write-behind data that may be lost in a power cut (device last-seen times).
 */
export function withoutFsync<T>(db: Db, fn: () => T): T {
  let modes = syncModes.get(db);
  if (!modes) {
    modes = {
      normal: db.prepare('PRAGMA synchronous = NORMAL'),
      full: db.prepare('PRAGMA synchronous = FULL'),
    };
    syncModes.set(db, modes);
  }
  modes.normal.run();
  try {
    return fn();
  } finally {
    modes.full.run();
  }
}

/** Prepared once per connection: the journal switches for every group commit. */
const syncModes = new WeakMap<Db, { normal: Database.Statement; full: Database.Statement }>();

export class Meta {
  readonly #get;
  readonly #set;
  constructor(db: Db) {
    this.#get = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    this.#set = db.prepare(
      'INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
  }
  get(key: string): string | undefined {
    return this.#get.get(key)?.value;
  }
  getNumber(key: string, fallback: number): number {
    const v = this.get(key);
    return v === undefined ? fallback : Number(v);
  }
  set(key: string, value: string | number): void {
    this.#set.run(key, String(value));
  }
}
