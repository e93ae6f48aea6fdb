import { randomBytes } from 'node:crypto';
import { hashSecret } from './secrets.js';

/** Random bytes in a device secret the hub makes: 192 bits (at least 128 are required). */
export const DEVICE_SECRET_BYTES = 24;

/**
 * A new device secret and the hash the hub keeps of it. The secret is shown once (API answer,
 * installer sheet) and never stored or logged; only the hash enters the log and the store. One
 * function, so the hash format can change in one place (a fast verifier suits secrets of this
 * length: their strength is their randomness, not the hash's cost).
 */
export async function newDeviceSecret(): Promise<{ secret: string; hash: string }> {
  const secret = randomBytes(DEVICE_SECRET_BYTES).toString('base64url');
  return { secret, hash: await hashSecret(secret) };
}

/** A staff password's hash (scrypt, as `carehub hash-secret` makes). */
export async function passwordHash(password: string): Promise<string> {
  return hashSecret(password);
}
