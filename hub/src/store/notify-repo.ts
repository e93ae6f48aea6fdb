import type {
  AttemptResult,
  GoingContact,
  NotifyAttempt,
  NotifyChannel,
  NotifyRow,
  NotifyStatus,
} from '../model/notify.js';
import type { Db } from './sqlite-db.js';

interface Row {
  id: string;
  alert_id: string;
  home_id: string;
  step: number;
  contact: number;
  channel: string;
  status: string;
  created_at: number;
  attempts: number;
  next_at: number;
  updated_at: number;
  last_error: string | null;
}

const fromRow = (r: Row): NotifyRow => ({
  id: r.id,
  alertId: r.alert_id,
  homeId: r.home_id,
  step: r.step,
  contact: r.contact,
  channel: r.channel as NotifyChannel,
  status: r.status as NotifyStatus,
  createdAt: r.created_at,
  attempts: r.attempts,
  nextAt: r.next_at,
  updatedAt: r.updated_at,
  lastError: r.last_error,
});

/**
 * The notification outbox (written by the applier only, in the unit of work of the entry that
 * decided it), the attempts at each row (from `delivery` entries) and the contacts going.
 */
export class NotifyRepo {
  readonly #insert;
  readonly #get;
  readonly #byAlert;
  readonly #due;
  readonly #nextDue;
  readonly #cancel;
  readonly #attempted;
  readonly #addAttempt;
  readonly #attempts;
  readonly #addGoing;
  readonly #going;
  readonly #pendingCount;

  constructor(db: Db) {
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO notify_outbox(id, alert_id, home_id, step, contact, channel, status, created_at, attempts, next_at, updated_at, last_error)
       VALUES (@id, @alertId, @homeId, @step, @contact, @channel, @status, @createdAt, @attempts, @nextAt, @updatedAt, @lastError)`,
    );
    this.#get = db.prepare<[string], Row>('SELECT * FROM notify_outbox WHERE id = ?');
    this.#byAlert = db.prepare<[string], Row>(
      'SELECT * FROM notify_outbox WHERE alert_id = ? ORDER BY step, contact, channel',
    );
    this.#due = db.prepare<[number, number], Row>(
      "SELECT * FROM notify_outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
    );
    this.#nextDue = db.prepare<[], { next_at: number }>(
      "SELECT next_at FROM notify_outbox WHERE status = 'pending' ORDER BY next_at LIMIT 1",
    );
    this.#cancel = db.prepare(
      "UPDATE notify_outbox SET status = 'cancelled', updated_at = ? WHERE alert_id = ? AND status = 'pending'",
    );
    this.#attempted = db.prepare(
      'UPDATE notify_outbox SET status = ?, attempts = ?, next_at = ?, updated_at = ?, last_error = ? WHERE id = ?',
    );
    this.#addAttempt = db.prepare(
      'INSERT OR IGNORE INTO notify_attempts(row_id, alert_id, attempt, at, result, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#attempts = db.prepare<[string], NotifyAttempt & { row_id: string; alert_id: string }>(
      'SELECT row_id, alert_id, attempt, at, result, detail FROM notify_attempts WHERE alert_id = ? ORDER BY at, row_id, attempt',
    );
    this.#addGoing = db.prepare('INSERT OR IGNORE INTO notify_going(alert_id, contact, at) VALUES (?, ?, ?)');
    this.#going = db.prepare<[string], { alert_id: string; contact: number; at: number }>(
      'SELECT alert_id, contact, at FROM notify_going WHERE alert_id = ? ORDER BY at, contact',
    );
    this.#pendingCount = db.prepare<[], { n: number }>(
      "SELECT count(*) AS n FROM notify_outbox WHERE status = 'pending'",
    );
  }

  /** False when the row exists already (the same step decided twice writes one row). */
  insert(row: NotifyRow): boolean {
    return this.#insert.run(row).changes === 1;
  }

  get(id: string): NotifyRow | undefined {
    const r = this.#get.get(id);
    return r ? fromRow(r) : undefined;
  }

  byAlert(alertId: string): NotifyRow[] {
    return this.#byAlert.all(alertId).map(fromRow);
  }

  /** Pending rows due by `now`, oldest first. */
  due(now: number, limit: number): NotifyRow[] {
    return this.#due.all(now, limit).map(fromRow);
  }

  /** When the earliest pending row is due; undefined when none is pending. */
  nextDue(): number | undefined {
    return this.#nextDue.get()?.next_at;
  }

  pendingCount(): number {
    return this.#pendingCount.get()?.n ?? 0;
  }

  /** Every pending row of the alert is cancelled; returns how many. */
  cancelPending(alertId: string, at: number): number {
    return this.#cancel.run(at, alertId).changes;
  }

  /** One attempt at a row, and the row's new status. */
  recordAttempt(
    row: NotifyRow,
    a: { attempt: number; at: number; result: AttemptResult; detail: string },
    status: NotifyStatus,
    nextAt: number,
  ): void {
    this.#addAttempt.run(row.id, row.alertId, a.attempt, a.at, a.result, a.detail);
    this.#attempted.run(status, a.attempt, nextAt, a.at, a.result === 'sent' ? null : a.detail, row.id);
  }

  attempts(alertId: string): NotifyAttempt[] {
    return this.#attempts.all(alertId).map((r) => ({
      rowId: r.row_id,
      alertId: r.alert_id,
      attempt: r.attempt,
      at: r.at,
      result: r.result,
      detail: r.detail,
    }));
  }

  /** False when the contact had already said so. */
  addGoing(alertId: string, contact: number, at: number): boolean {
    return this.#addGoing.run(alertId, contact, at).changes === 1;
  }

  going(alertId: string): GoingContact[] {
    return this.#going.all(alertId).map((r) => ({ alertId: r.alert_id, contact: r.contact, at: r.at }));
  }
}
