import { fastHash, generateDeviceSecret } from './device-secrets.js';
import { hashSecret } from './secrets.js';

/**
 * A new device secret and the hash the hub keeps of it. The secret is shown once (API answer,
 * installer sheet) and never stored or logged; only the hash enters the log and the store. It is a
 * hub-made secret (`chs1_` and 192 random bits, device-secrets.ts) with its fast hash: its strength
 * is its randomness, so a device is admitted with one HMAC, also in a reconnect storm.
 */
export async function newDeviceSecret(): Promise<{ secret: string; hash: string }> {
  const secret = generateDeviceSecret();
  return { secret, hash: fastHash(secret) };
}

/** A staff password's hash (scrypt, as `carehub hash-secret` makes). */
export async function passwordHash(password: string): Promise<string> {
  return hashSecret(password);
}
