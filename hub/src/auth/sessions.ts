import { createHash, randomBytes } from 'node:crypto';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { AuditLogEntry, SessionLogEntry } from '../model/entries.js';
import type { Directory } from '../site/directory.js';
import type { SessionRepo } from '../store/session-repo.js';
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

/** Where logins, logouts and their audit rows go: the log (core/state-machine.ts). */
export type SessionSubmit = (entry: SessionLogEntry | AuditLogEntry) => Promise<unknown>;

/**
 * Staff login and bearer tokens. Only a hash of each token is stored, so sessions survive a restart
 * and a copy of the database yields no usable token. Sessions are log entries (opened at login,
 * closed at logout or when a staff member is removed), so every node of a cluster knows them.
 * Failed logins slow down the (user name, address) pair that failed (LoginThrottle, HTTP 429).
 * Whoever holds a session open (the feed) hears when one ends through `onEnded`, on every node,
 * once the entry that ended it is applied (`ended`, from the effects).
 */
export class Sessions {
  readonly #verifier = new SecretVerifier();
  readonly #throttle: LoginThrottle;
  readonly #listeners: Array<(ended: SessionsEnded) => void> = [];

  constructor(
    private readonly repo: SessionRepo,
    private readonly directory: Directory,
    private readonly ttlMs: number,
    private readonly submit: SessionSubmit,
    /** Real time, not the drill clock: a drill that plays a day must not expire the supervisor's login. */
    private readonly realNow: () => number = Date.now,
  ) {
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
      await this.#audit(now, staff ? staff.id : '(unknown)', 'login.failed', address);
      throw new HubError(ErrorCodes.LOGIN_FAILED, 'wrong user name or password');
    }
    this.#throttle.succeeded(username, address);
    await this.#audit(now, staff.id, 'login', address);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    await this.submit({
      kind: 'session',
      at: now,
      op: 'open',
      tokenHash: hashToken(token),
      staffId: staff.id,
      expiresAt,
    });
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
    const row = this.repo.get(sessionId);
    if (!row || row.expiresAt <= this.realNow()) return undefined;
    const staff = this.directory.staff(row.staffId);
    return staff && { id: sessionId, staff, expiresAt: row.expiresAt };
  }

  async logout(token: string): Promise<void> {
    await this.submit({ kind: 'session', at: this.realNow(), op: 'close', tokenHash: hashToken(token) });
  }

  /** End every session of a staff member (removed, or their password reset): they must log in again. */
  async endSessionsOf(staffId: string): Promise<void> {
    await this.submit({ kind: 'session', at: this.realNow(), op: 'close-staff', staffId });
  }

  /** Told at once when sessions end by logout or staff removal (expiry is each holder's own timer). */
  onEnded(listener: (ended: SessionsEnded) => void): void {
    this.#listeners.push(listener);
  }

  /** Sessions ended by an applied entry (the effects call this on every node). */
  ended(ended: SessionsEnded): void {
    for (const l of this.#listeners) l(ended);
  }

  async #audit(at: number, actor: string, action: string, target: string): Promise<void> {
    await this.submit({ kind: 'audit', at, actor, action, target, data: {} });
  }
}
