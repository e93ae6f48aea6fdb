import type { Logger } from '../log.js';
import type { Db } from '../store/sqlite-db.js';

export interface JournalEntry {
  deviceId: string;
  homeId: string;
  receivedAt: number;
  /** Normalised event type ('sos.pressed', 'status.offline', …). */
  type: string;
  eventId?: string | undefined;
  /** MQTT message id of a QoS 1 publish, to recognise a redelivery that carries no event id. */
  mqttMid?: number | undefined;
  /** MQTT DUP flag: only then is the redelivery check made. */
  dup?: boolean | undefined;
  /** The normalised event as JSON. */
  payload: string;
}

export interface AppendResult {
  seq: number;
  duplicate: boolean;
}

export interface JournalRow {
  seq: number;
  device_id: string;
  home_id: string;
  received_at: number;
  type: string;
  event_id: string | null;
  payload: string;
}

export interface DeadLetter {
  receivedAt: number;
  clientId: string;
  topic: string;
  reason: string;
  detail: string;
  payload: Buffer;
}

type Pending =
  | { kind: 'entry'; entry: JournalEntry; resolve: (r: AppendResult) => void; reject: (err: unknown) => void }
  | { kind: 'dead'; dead: DeadLetter; resolve: (r: AppendResult) => void; reject: (err: unknown) => void };

/**
 * Durable append-only log of every accepted device message. Appends made in the same turn of the
 * event loop are committed in one transaction (group commit: one fsync for a burst); each append's
 * promise resolves only after that commit, which is what lets the broker PUBACK.
 */
export class Journal {
  #pending: Pending[] = [];
  #scheduled = false;
  #closed = false;
  readonly #insert;
  readonly #dupMid;
  readonly #afterSeq;
  readonly #maxSeq;
  readonly #commitBatch;
  readonly #insertDead;
  readonly #listeners: Array<() => void> = [];
  stats = { commits: 0, rows: 0, duplicates: 0 };

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    this.#insert = db.prepare(
      `INSERT INTO journal(device_id, home_id, received_at, type, event_id, mqtt_mid, payload)
       VALUES (@deviceId, @homeId, @receivedAt, @type, @eventId, @mqttMid, @payload)
       ON CONFLICT DO NOTHING RETURNING seq`,
    );
    // A redelivery (DUP flag) is the device resending a recent publish whose PUBACK it missed. Look
    // only at the device's latest rows and the last hour: devices restart message ids at boot, and
    // matching an old press with a reused id would drop a new one.
    this.#dupMid = db.prepare<[string, number, string, number], { seq: number }>(
      `SELECT seq FROM (SELECT seq, mqtt_mid, payload, received_at FROM journal WHERE device_id = ? ORDER BY seq DESC LIMIT 20)
       WHERE mqtt_mid = ? AND payload = ? AND received_at >= ? LIMIT 1`,
    );
    this.#afterSeq = db.prepare<[number, number], JournalRow>(
      'SELECT seq, device_id, home_id, received_at, type, event_id, payload FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    this.#maxSeq = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal');
    this.#insertDead = db.prepare(
      `INSERT INTO dead_letter(received_at, client_id, topic, reason, detail, payload)
       VALUES (@receivedAt, @clientId, @topic, @reason, @detail, @payload)`,
    );
    this.#commitBatch = db.transaction((batch: Pending[]) =>
      batch.map((p) => {
        if (p.kind === 'entry') return this.#appendOne(p.entry);
        this.#insertDead.run(p.dead);
        return { seq: 0, duplicate: false };
      }),
    );
  }

  append(entry: JournalEntry): Promise<AppendResult> {
    return this.#enqueue((resolve, reject) => ({ kind: 'entry', entry, resolve, reject }));
  }

  /** Keep a rejected message (bounded by the caller's size cap) for inspection; committed with the next batch. */
  deadLetter(dead: DeadLetter): Promise<AppendResult> {
    return this.#enqueue((resolve, reject) => ({ kind: 'dead', dead, resolve, reject }));
  }

  #enqueue(make: (resolve: (r: AppendResult) => void, reject: (err: unknown) => void) => Pending): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('journal closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push(make(resolve, reject));
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Called after every commit that added rows (the processor reads them from here). */
  onCommit(listener: () => void): void {
    this.#listeners.push(listener);
  }

  readAfter(seq: number, limit: number): JournalRow[] {
    return this.#afterSeq.all(seq, limit);
  }

  deviceEvents(deviceId: string, fromMs: number | undefined, toMs: number | undefined, limit: number): JournalRow[] {
    return this.db
      .prepare(
        `SELECT seq, device_id, home_id, received_at, type, event_id, payload FROM journal
         WHERE device_id = ? AND received_at >= ? AND received_at < ? ORDER BY seq DESC LIMIT ?`,
      )
      .all(deviceId, fromMs ?? 0, toMs ?? Number.MAX_SAFE_INTEGER, limit) as JournalRow[];
  }

  lastSeq(): number {
    return this.#maxSeq.get()?.seq ?? 0;
  }

  /** Commit whatever is pending now (used on shutdown). */
  flushNow(): void {
    this.#flush();
  }

  close(): void {
    this.#flush();
    this.#closed = true;
  }

  #appendOne(entry: JournalEntry): AppendResult {
    if (entry.dup && entry.mqttMid !== undefined && entry.eventId === undefined) {
      const prior = this.#dupMid.get(entry.deviceId, entry.mqttMid, entry.payload, entry.receivedAt - 3600_000);
      if (prior) return { seq: prior.seq, duplicate: true };
    }
    const row = this.#insert.get({
      deviceId: entry.deviceId,
      homeId: entry.homeId,
      receivedAt: entry.receivedAt,
      type: entry.type,
      eventId: entry.eventId ?? null,
      mqttMid: entry.mqttMid ?? null,
      payload: entry.payload,
    }) as { seq: number } | undefined;
    if (row) return { seq: row.seq, duplicate: false };
    return { seq: 0, duplicate: true };
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    let results: AppendResult[];
    try {
      results = this.#commitBatch(batch);
    } catch (err) {
      this.log.error({ err, rows: batch.length }, 'journal commit failed');
      for (const p of batch) p.reject(err);
      return;
    }
    this.stats.commits++;
    let added = 0;
    batch.forEach((p, i) => {
      const r = results[i] as AppendResult;
      if (p.kind === 'entry') {
        if (r.duplicate) this.stats.duplicates++;
        else added++;
      }
      p.resolve(r);
    });
    this.stats.rows += added;
    if (added > 0) for (const l of this.#listeners) l();
  }
}
