import { createHash, randomBytes } from 'node:crypto';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Directory } from '../site/directory.js';
import type { AuditWriter } from '../store/audit-log.js';
import { SessionRepo } from '../store/session-repo.js';
import type { Db } from '../store/sqlite-db.js';
import { LoginThrottle } from './login-throttle.js';
import { SecretVerifier, verifySecret } from './secrets.js';

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A hash that verifies nothing, checked when the user is unknown so timing does not reveal which names exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** A logged-in session: `id` is the hash of its token (the token itself is never kept). */
export interface Session {
  id: string;
  staff: StaffConfig;
  /** Real time (epoch ms), not the drill clock. */
  expiresAt: number;
}

export type SessionEndReason = 'logout' | 'staff_removed';

/** Sessions that have just ended: one by its id, or all of one staff member. */
export type SessionsEnded =
  | { sessionId: string; reason: SessionEndReason }
  | { staffId: string; reason: SessionEndReason };

/**
 * Staff login and bearer tokens. Only a hash of each token is stored (SQLite), so sessions survive
 * a restart and a copy of the database yields no usable token. Failed logins slow down the (user
 * name, address) pair that failed (LoginThrottle, HTTP 429). Whoever holds a session open (the feed)
 * hears when one ends through `onEnded`.
 */
export class Sessions {
  readonly #verifier = new SecretVerifier();
  readonly #throttle: LoginThrottle;
  readonly #repo: SessionRepo;
  readonly #listeners: Array<(ended: SessionsEnded) => void> = [];

  constructor(
    db: Db,
    private readonly directory: Directory,
    private readonly ttlMs: number,
    private readonly audit?: AuditWriter,
    /** Real time, not the drill clock: a drill that plays a day must not expire the supervisor's login. */
    private readonly realNow: () => number = Date.now,
  ) {
    this.#repo = new SessionRepo(db);
    this.#throttle = new LoginThrottle(realNow);
  }

  async login(
    username: string,
    password: string,
    address: string,
  ): Promise<{ token: string; staff: StaffConfig; expiresAt: number }> {
    this.#throttle.check(username, address);
    const now = this.realNow();
    const staff = this.directory.staff(username);
    const ok = staff
      ? await this.#verifier.verify(`staff:${staff.id}`, password, staff.passwordHash)
      : await verifySecret(password, DUMMY_HASH);
    if (!staff || !ok) {
      this.#throttle.failed(username, address);
      this.audit?.append(now, staff ? staff.id : '(unknown)', 'login.failed', address, {});
      throw new HubError(ErrorCodes.LOGIN_FAILED, 'wrong user name or password');
    }
    this.#throttle.succeeded(username, address);
    this.audit?.append(now, staff.id, 'login', address, {});
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.realNow() + this.ttlMs;
    this.#repo.purge(this.realNow());
    this.#repo.insert(hashToken(token), staff.id, this.realNow(), expiresAt);
    return { token, staff, expiresAt };
  }

  /** The staff member a token belongs to, or undefined (unknown, expired, or staff removed from config). */
  authenticate(token: string | undefined): StaffConfig | undefined {
    return this.session(token)?.staff;
  }

  /** The live session of a token, or undefined. */
  session(token: string | undefined): Session | undefined {
    if (!token || token.length > 200) return undefined;
    return this.recheck(hashToken(token));
  }

  /** The session again, as it stands now: undefined once it has been logged out, expired or its staff removed. */
  recheck(sessionId: string): Session | undefined {
    const row = this.#repo.get(sessionId);
    if (!row || row.expiresAt <= this.realNow()) return undefined;
    const staff = this.directory.staff(row.staffId);
    return staff && { id: sessionId, staff, expiresAt: row.expiresAt };
  }

  logout(token: string): void {
    const sessionId = hashToken(token);
    this.#repo.delete(sessionId);
    this.#emit({ sessionId, reason: 'logout' });
  }

  /** End every session of a staff member (removed, or their password reset): they must log in again. */
  endSessionsOf(staffId: string): void {
    this.#repo.deleteOfStaff(staffId);
    this.#emit({ staffId, reason: 'staff_removed' });
  }

  /** Told at once when sessions end by logout or staff removal (expiry is each holder's own timer). */
  onEnded(listener: (ended: SessionsEnded) => void): void {
    this.#listeners.push(listener);
  }

  #emit(ended: SessionsEnded): void {
    for (const l of this.#listeners) l(ended);
  }
}
