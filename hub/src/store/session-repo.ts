import type { Db } from './sqlite-db.js';

export interface SessionRow {
  staffId: string;
  expiresAt: number;
}

/** Staff login sessions, stored by the hash of their token only. */
export class SessionRepo {
  readonly #insert;
  readonly #lookup;
  readonly #delete;
  readonly #deleteOfStaff;
  readonly #purge;

  constructor(db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO sessions(token_hash, staff_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
    );
    this.#lookup = db.prepare<[string], { staff_id: string; expires_at: number }>(
      'SELECT staff_id, expires_at FROM sessions WHERE token_hash = ?',
    );
    this.#delete = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
    this.#deleteOfStaff = db.prepare('DELETE FROM sessions WHERE staff_id = ?');
    this.#purge = db.prepare('DELETE FROM sessions WHERE expires_at < ?');
  }

  insert(tokenHash: string, staffId: string, createdAt: number, expiresAt: number): void {
    this.#insert.run(tokenHash, staffId, createdAt, expiresAt);
  }

  get(tokenHash: string): SessionRow | undefined {
    const row = this.#lookup.get(tokenHash);
    return row && { staffId: row.staff_id, expiresAt: row.expires_at };
  }

  delete(tokenHash: string): void {
    this.#delete.run(tokenHash);
  }

  /** Every session of one staff member; how many there were. */
  deleteOfStaff(staffId: string): number {
    return this.#deleteOfStaff.run(staffId).changes;
  }

  /** Sessions that expired before `now`. */
  purge(now: number): void {
    this.#purge.run(now);
  }
}
