import { createHash, type Hash } from 'node:crypto';
import type { Db } from './sqlite-db.js';

/** The parts of the state the digest covers, in the order they are hashed. */
export const DIGEST_PARTS = [
  'alerts',
  'timers',
  'homes',
  'rhythm',
  'devices',
  'zigbee',
  'sessions',
  'feed',
  'audit',
  'directory',
  'notify',
] as const;
export type DigestPart = (typeof DIGEST_PARTS)[number];

export interface StateDigest {
  /** Position of the last entry applied. */
  position: number;
  parts: Record<DigestPart, string>;
  /** Over every part: equal on two data dirs means the same state at that position. */
  total: string;
}

/** JSON with object keys sorted: two states equal in content hash alike, whatever order keys were set in. */
export function canonicalJson(text: string): string {
  return JSON.stringify(sortKeys(JSON.parse(text)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

const json = (v: unknown) => (v === null || v === undefined ? 'null' : canonicalJson(String(v)));

function hashRows(
  db: Db,
  sql: string,
  row: (r: Record<string, unknown>) => string,
  ...params: unknown[]
): string {
  const h: Hash = createHash('sha256');
  for (const r of db.prepare(sql).iterate(...params) as IterableIterator<Record<string, unknown>>) {
    h.update(row(r));
    h.update('\n');
  }
  return h.digest('hex');
}

/**
 * The digest of everything the applier writes: alerts, stored timers, home state and learned
 * rhythm, device state, what
 * the hub keeps of Zigbee2MQTT reports, the
 * feed log (its newest `feedWindow` entries, which every node keeps, and its next number) and the
 * audit trail. Soft state is read from the rows: flush it first. Two data dirs that applied the
 * same log agree on it (`carehub digest`, docs/architecture.md).
 */
export function stateDigest(db: Db, position: number, feedWindow: number): StateDigest {
  const feedSeq =
    (
      db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'feed_log'").get() as
        | { seq: number }
        | undefined
    )?.seq ?? 0;
  const parts: Record<DigestPart, string> = {
    alerts: hashRows(
      db,
      'SELECT id, home_id, kind, status, merge_key, raised_at, updated_at, version, data FROM alerts ORDER BY id',
      (r) =>
        `${r.id}|${r.home_id}|${r.kind}|${r.status}|${r.merge_key}|${r.raised_at}|${r.updated_at}|${r.version}|${canonicalJson(String(r.data))}`,
    ),
    timers: hashRows(
      db,
      'SELECT key, home_id, due_at, data FROM timers ORDER BY key',
      (r) => `${r.key}|${r.home_id}|${r.due_at}|${canonicalJson(String(r.data))}`,
    ),
    homes: hashRows(
      db,
      'SELECT home_id, data FROM home_state ORDER BY home_id',
      (r) => `${r.home_id}|${canonicalJson(String(r.data))}`,
    ),
    rhythm: hashRows(
      db,
      'SELECT home_id, data FROM home_rhythm ORDER BY home_id',
      (r) => `${r.home_id}|${canonicalJson(String(r.data))}`,
    ),
    devices: hashRows(
      db,
      'SELECT device_id, online, battery, battery_low, rssi, last_seen FROM device_state ORDER BY device_id',
      (r) => `${r.device_id}|${r.online}|${r.battery}|${r.battery_low}|${r.rssi}|${r.last_seen}`,
    ),
    zigbee: hashRows(
      db,
      // Not its `seq`: an unchanged memory is not written again, so which row wrote it last depends on restarts.
      'SELECT device_id, memory FROM zigbee_state ORDER BY device_id',
      (r) => `${r.device_id}|${canonicalJson(String(r.memory))}`,
    ),
    sessions: hashRows(
      db,
      'SELECT token_hash, staff_id, created_at, expires_at FROM sessions ORDER BY token_hash',
      (r) => `${r.token_hash}|${r.staff_id}|${r.created_at}|${r.expires_at}`,
    ),
    feed: `${feedSeq}:${hashRows(
      db,
      'SELECT seq, at, type, home_id, data FROM feed_log WHERE seq > ? ORDER BY seq',
      (r) => `${r.seq}|${r.at}|${r.type}|${r.home_id}|${r.data}`,
      feedSeq - feedWindow,
    )}`,
    audit: hashRows(db, 'SELECT seq, hash FROM audit ORDER BY seq', (r) => `${r.seq}|${r.hash}`),
    // The site directory and its change history (store/directory-repo.ts), row by row.
    directory: hashRows(
      db,
      `SELECT 'g' AS t, id, pos, idx, data, NULL AS a, NULL AS b, NULL AS c FROM dir_grids
       UNION ALL SELECT 'h', id, pos, idx, data, grid, updated_at, NULL FROM dir_homes
       UNION ALL SELECT 'd', id, pos, idx, data, home_id, secret_hash, secret_at || ':' || updated_at FROM dir_devices
       UNION ALL SELECT 's', id, pos, idx, data, password_hash, updated_at, NULL FROM dir_staff
       UNION ALL SELECT 'c', position || ':' || idx, at, actor, op || ':' || target, home_id, before, after FROM dir_changes
       ORDER BY 1, 2`,
      // JSON canonical: a record read back from the store may list its keys in another order.
      (r) =>
        r.t === 'c'
          ? `c|${r.id}|${r.pos}|${r.idx}|${r.data}|${r.a}|${json(r.b)}|${json(r.c)}`
          : `${r.t}|${r.id}|${r.pos}|${r.idx}|${canonicalJson(String(r.data))}|${r.a}|${r.b}|${r.c}`,
    ),
    // The notification outbox, its attempts and the contacts going (store/notify-repo.ts).
    notify: [
      hashRows(
        db,
        'SELECT id, alert_id, home_id, step, contact, channel, status, created_at, attempts, next_at, updated_at, last_error FROM notify_outbox ORDER BY id',
        (r) =>
          `${r.id}|${r.alert_id}|${r.home_id}|${r.step}|${r.contact}|${r.channel}|${r.status}|${r.created_at}|${r.attempts}|${r.next_at}|${r.updated_at}|${r.last_error}`,
      ),
      hashRows(
        db,
        'SELECT row_id, attempt, at, result, detail FROM notify_attempts ORDER BY row_id, attempt',
        (r) => `${r.row_id}|${r.attempt}|${r.at}|${r.result}|${r.detail}`,
      ),
      hashRows(
        db,
        'SELECT alert_id, contact, at FROM notify_going ORDER BY alert_id, contact',
        (r) => `${r.alert_id}|${r.contact}|${r.at}`,
      ),
    ].join(':'),
  };
  const total = createHash('sha256');
  for (const p of DIGEST_PARTS) total.update(`${p}=${parts[p]}\n`);
  return { position, parts, total: total.digest('hex') };
}
