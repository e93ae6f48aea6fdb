import { createHash, randomBytes } from 'node:crypto';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Directory } from '../site/directory.js';
import type { AuditWriter } from '../store/audit-log.js';
import type { Db } from '../store/sqlite-db.js';
import { SecretVerifier, verifySecret } from './secrets.js';

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A hash that verifies nothing, checked when the user is unknown so timing does not reveal which names exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

interface Failures {
  count: number;
  lockedUntil: number;
}

/**
 * Staff login and bearer tokens. Only a hash of each token is stored (SQLite), so sessions survive
 * a restart and a copy of the database yields no usable token. Repeated failures lock the user
 * name and the address for a while (HTTP 429).
 */
export class Sessions {
  readonly #verifier = new SecretVerifier();
  readonly #failures = new Map<string, Failures>();
  readonly #insert;
  readonly #lookup;
  readonly #delete;
  readonly #purge;
  static readonly MAX_FAILURES = 5;
  static readonly LOCK_MS = 5 * 60_000;

  constructor(
    db: Db,
    private readonly directory: Directory,
    private readonly ttlMs: number,
    private readonly audit?: AuditWriter,
    /** Real time, not the drill clock: a drill that plays a day must not expire the supervisor's login. */
    private readonly realNow: () => number = Date.now,
  ) {
    this.#insert = db.prepare(
      'INSERT INTO sessions(token_hash, staff_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
    );
    this.#lookup = db.prepare<[string], { staff_id: string; expires_at: number }>(
      'SELECT staff_id, expires_at FROM sessions WHERE token_hash = ?',
    );
    this.#delete = db.prepare('DELETE FROM sessions WHERE token_hash = ?');
    this.#purge = db.prepare('DELETE FROM sessions WHERE expires_at < ?');
  }

  async login(
    username: string,
    password: string,
    address: string,
  ): Promise<{ token: string; staff: StaffConfig; expiresAt: number }> {
    const now = this.realNow();
    for (const key of [`u:${username}`, `a:${address}`]) {
      const f = this.#failures.get(key);
      if (f && f.lockedUntil > now) {
        throw new HubError(ErrorCodes.TOO_MANY_ATTEMPTS, 'too many failed logins; try again later', {
          details: { retryAfterSeconds: Math.ceil((f.lockedUntil - now) / 1000) },
        });
      }
    }
    const staff = this.directory.staff(username);
    const ok = staff
      ? await this.#verifier.verify(`staff:${staff.id}`, password, staff.passwordHash)
      : await verifySecret(password, DUMMY_HASH);
    if (!staff || !ok) {
      this.#fail(`u:${username}`, now);
      this.#fail(`a:${address}`, now);
      this.audit?.append(now, staff ? staff.id : '(unknown)', 'login.failed', address, {});
      throw new HubError(ErrorCodes.LOGIN_FAILED, 'wrong user name or password');
    }
    this.#failures.delete(`u:${username}`);
    this.audit?.append(now, staff.id, 'login', address, {});
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.realNow() + this.ttlMs;
    this.#purge.run(this.realNow());
    this.#insert.run(hashToken(token), staff.id, this.realNow(), expiresAt);
    return { token, staff, expiresAt };
  }

  /** The staff member a token belongs to, or undefined (unknown, expired, or staff removed from config). */
  authenticate(token: string | undefined): StaffConfig | undefined {
    if (!token || token.length > 200) return undefined;
    const row = this.#lookup.get(hashToken(token));
    if (!row || row.expires_at <= this.realNow()) return undefined;
    return this.directory.staff(row.staff_id);
  }

  logout(token: string): void {
    this.#delete.run(hashToken(token));
  }

  #fail(key: string, now: number): void {
    const f = this.#failures.get(key) ?? { count: 0, lockedUntil: 0 };
    f.count++;
    if (f.count >= Sessions.MAX_FAILURES) {
      f.lockedUntil = now + Sessions.LOCK_MS;
      f.count = 0;
    }
    this.#failures.set(key, f);
    if (this.#failures.size > 10_000) this.#failures.delete(this.#failures.keys().next().value as string);
  }
}
