import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NotificationsConfig } from '../config/notify-schema.js';
import type { Meta } from '../store/sqlite-db.js';

/**
 * The "I am going" link's token: `<alertId>.<contact>.<expiry base36>.<HMAC-SHA256 base64url>`,
 * bound to one alert and one contact of its home, valid until the expiry (hub time). Nothing in it
 * is secret but the MAC; a token that does not verify tells its bearer nothing (docs/security.md).
 */
export interface LinkClaims {
  alertId: string;
  contact: number;
  /** Epoch ms after which the link no longer works. */
  exp: number;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const SHAPE = /^([A-Za-z0-9_-]{1,64})\.(0|[1-9]\d{0,2})\.([1-9a-z][0-9a-z]{0,10})\.([A-Za-z0-9_-]{43})$/;
/** Longest token the shape allows: anything longer is refused before a regex runs on it. */
export const MAX_TOKEN_LENGTH = 64 + 1 + 3 + 1 + 11 + 1 + 43;

function mac(key: Buffer, c: LinkClaims): Buffer {
  return createHmac('sha256', key).update(`carehub-ack-v1|${c.alertId}|${c.contact}|${c.exp}`).digest();
}

export function signLink(key: Buffer, c: LinkClaims): string {
  return `${c.alertId}.${c.contact}.${c.exp.toString(36)}.${mac(key, c).toString('base64url')}`;
}

/** Check a token's shape, MAC and expiry; never throws, whatever the input. */
export function checkLink(key: Buffer, token: unknown, now: number): LinkCheck {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const m = SHAPE.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const claims: LinkClaims = {
    alertId: m[1] as string,
    contact: Number(m[2]),
    exp: Number.parseInt(m[3] as string, 36),
  };
  // Compared as text: 43 base64url characters carry 258 bits, so decoding would accept four spellings
  // of the last one; only the hub's own spelling passes.
  const given = Buffer.from(m[4] as string, 'latin1');
  const expected = Buffer.from(mac(key, claims).toString('base64url'), 'latin1');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature' };
  if (!Number.isSafeInteger(claims.exp) || now >= claims.exp) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

const META_KEY = 'notify_link_key';

/**
 * The key that signs links: `notifications.linkSecret`, else one generated once and kept in hub.db
 * (every node of a cluster needs the same: set linkSecret there). Never logged.
 */
export function linkKey(n: NotificationsConfig, meta: Meta): Buffer {
  if (n.linkSecret) return Buffer.from(n.linkSecret, 'utf8');
  const stored = meta.get(META_KEY);
  if (stored) return Buffer.from(stored, 'base64');
  const fresh = randomBytes(32);
  meta.set(META_KEY, fresh.toString('base64'));
  return fresh;
}
