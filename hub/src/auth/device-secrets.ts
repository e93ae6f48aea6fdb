import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device secrets the hub makes, and their fast hash.
 *
 * A slow hash (scrypt) protects secrets people choose: a stolen configuration must not give away a
 * guessable password. A secret the hub makes is 192 random bits: nobody can guess it from its hash,
 * however fast the hash, so it is verified with one HMAC-SHA-256 (~2 µs) instead of one scrypt (~30 ms
 * of CPU). After a restart every device is admitted at network speed, not at 50 a second.
 *
 * Hub-made secret: `chs1_` and 32 base64url characters (24 random bytes). A secret is taken for
 * hub-made only in that form, so a person-chosen secret never gets the fast hash.
 *
 * Fast hash: `hmac-sha256$<salt>$<digest>`: a 16-byte random salt per device, and
 * HMAC-SHA-256 keyed with the salt over the secret; both base64.
 */

export const HUB_SECRET_PREFIX = 'chs1_';
const HUB_SECRET_BYTES = 24;
/** 22 base64url characters carry 132 bits: the least a hub-made secret has. */
const MIN_BODY = 22;
const MAX_BODY = 86;
/** 32 random base64url characters show ~25 distinct ones; fewer than 10 is typed, not drawn. */
const MIN_DISTINCT = 10;

export const FAST_HASH_PREFIX = 'hmac-sha256$';
const SALT_BYTES = 16;
const DIGEST_BYTES = 32;

/** A new device secret: `chs1_` + 24 random bytes in base64url (192 bits). Shown once, never stored. */
export function generateDeviceSecret(): string {
  for (;;) {
    const secret = `${HUB_SECRET_PREFIX}${randomBytes(HUB_SECRET_BYTES).toString('base64url')}`;
    if (isHubMadeSecret(secret)) return secret; // all but ~1 in 10^12 draws
  }
}

/**
 * Whether `secret` has the form of a secret the hub makes (at least 128 random bits): the prefix,
 * then 22-86 base64url characters, at least 10 of them distinct. One pass, no allocation: it runs
 * for every device admission.
 */
export function isHubMadeSecret(secret: string): boolean {
  const end = secret.length;
  const start = HUB_SECRET_PREFIX.length;
  if (end - start < MIN_BODY || end - start > MAX_BODY || !secret.startsWith(HUB_SECRET_PREFIX)) return false;
  let low = 0; // which of the 64 base64url characters occur: bits 0-31 here, 32-63 in `high`
  let high = 0;
  for (let i = start; i < end; i++) {
    const v = base64urlValue(secret.charCodeAt(i));
    if (v < 0) return false;
    if (v < 32) low |= 1 << v;
    else high |= 1 << (v - 32);
  }
  return bitCount(low) + bitCount(high) >= MIN_DISTINCT;
}

function base64urlValue(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  if (c === 45) return 62; // -
  if (c === 95) return 63; // _
  return -1;
}

function bitCount(n: number): number {
  let x = n - ((n >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function isFastHash(hash: string): boolean {
  return hash.startsWith(FAST_HASH_PREFIX);
}

/** `hmac-sha256$<salt>$<digest>` of a hub-made secret. Throws for any other secret: those get scrypt. */
export function fastHash(secret: string): string {
  if (!isHubMadeSecret(secret))
    throw new Error('only a secret made by the hub (chs1_…) may have a fast hash; use scrypt');
  const salt = randomBytes(SALT_BYTES);
  return `${FAST_HASH_PREFIX}${salt.toString('base64')}$${digest(salt, secret).toString('base64')}`;
}

/**
 * Whether `secret` matches the fast hash `hash`. Only a hub-made secret can match: a fast hash in a
 * configuration never admits a secret a person chose, whoever made the hash.
 */
export function verifyFastHash(secret: string, hash: string): boolean {
  const parts = fastHashParts(hash);
  if (!parts || !isHubMadeSecret(secret)) return false;
  return timingSafeEqual(digest(parts.salt, secret), parts.digest);
}

/** Whether `hash` is a complete fast hash (prefix, a 16-byte salt, a 32-byte digest). */
export function isWellFormedFastHash(hash: string): boolean {
  return fastHashParts(hash) !== null;
}

function fastHashParts(hash: string): { salt: Buffer; digest: Buffer } | null {
  if (!isFastHash(hash)) return null;
  const parts = hash.slice(FAST_HASH_PREFIX.length).split('$');
  if (parts.length !== 2) return null;
  const salt = Buffer.from(parts[0] ?? '', 'base64');
  const expected = Buffer.from(parts[1] ?? '', 'base64');
  if (salt.length !== SALT_BYTES || expected.length !== DIGEST_BYTES) return null;
  return { salt, digest: expected };
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}
