import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { AdmissionQueue } from './admission-queue.js';
import {
  fastHash,
  isFastHash,
  isHubMadeSecret,
  isWellFormedFastHash,
  verifyFastHash,
} from './device-secrets.js';

/** scrypt cost: ~50 ms per check on a small machine; verified secrets are cached (see SecretVerifier). */
const DEFAULT = { N: 16384, r: 8, p: 1, keyLen: 32 };

function scryptAsync(
  secret: string,
  salt: Buffer,
  keyLen: number,
  N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Format: scrypt$N$r$p$<salt base64>$<key base64> */
export async function hashSecret(secret: string, params = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, params.keyLen, params.N, params.r, params.p);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p) || N < 2 || N > 1 << 20)
    return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (expected.length < 16) return false;
  const actual = await scryptAsync(secret, salt, expected.length, N, r, p);
  return timingSafeEqual(actual, expected);
}

/**
 * Where fast verifiers of device secrets are kept across restarts (store/fast-verifier-repo.ts): for
 * a device whose configured hash is scrypt, a fast hash of its secret, made when that secret, a
 * hub-made one, first verified. Keyed by device id and a digest of the configured hash, so a changed
 * hash in the configuration leaves the old verifier unused.
 */
export interface FastVerifierStore {
  get(deviceId: string, configuredHashDigest: string): string | undefined;
  put(deviceId: string, configuredHashDigest: string, verifier: string): void;
}

/** How a check was decided: this process's cache, a fast hash (configured or kept), or scrypt. */
export type CheckMethod = 'cached' | 'fast' | 'scrypt';

export interface SecretVerifierOptions {
  /** Keeps fast verifiers of hub-made secrets whose configured hash is scrypt (devices). */
  store?: FastVerifierStore;
  /** Told how every check was decided (metrics). */
  onCheck?: (method: CheckMethod) => void;
}

/** The key of a configured hash in the fast-verifier store: changes whenever the hash does. */
export function configuredHashDigest(hash: string): string {
  return createHash('sha256').update(hash).digest('base64url');
}

/**
 * Verifies secrets against their hashes and remembers a keyed digest of each secret that verified,
 * so a device reconnecting (or a connect storm after a power cut) costs one HMAC instead of one
 * scrypt. The cache key is per process and never leaves memory. There is one digest per device
 * that connected, kept as a 32-character latin1 string: as a Buffer each cost ~240 B more resident.
 *
 * Devices: a fast hash in the configuration (a hub-made secret, device-secrets.ts) is checked at
 * once, never queued. A scrypt hash is checked with scrypt once; when the secret that matched is a
 * hub-made one, a fast verifier of it goes to the store, and later checks, in this process or after
 * a restart, use that instead of scrypt. Person-chosen secrets and staff passwords stay on scrypt.
 */
export class SecretVerifier {
  readonly #key = randomBytes(32);
  readonly #verified = new Map<string, string>();
  readonly #store: FastVerifierStore | undefined;
  readonly #onCheck: ((method: CheckMethod) => void) | undefined;

  /** `queue`: where the scrypt checks wait their turn (devices); none: run at once (staff logins). */
  constructor(
    private readonly queue?: AdmissionQueue,
    options: SecretVerifierOptions = {},
  ) {
    this.#store = options.store;
    this.#onCheck = options.onCheck;
  }

  /**
   * True when `secret` matches `hash`. With a queue, a check that must run scrypt waits its turn
   * by `admission.priority`, and is skipped (undefined: not checked) when `admission.isStale()` by then.
   */
  async verify(
    id: string,
    secret: string,
    hash: string,
    admission: { priority: number; isStale: () => boolean } = { priority: 0, isStale: () => false },
  ): Promise<boolean | undefined> {
    if (isFastHash(hash)) {
      // One HMAC either way: remembering it would save nothing.
      this.#onCheck?.('fast');
      return verifyFastHash(secret, hash);
    }
    const digest = createHmac('sha256', this.#key).update(hash).update('\0').update(secret).digest();
    if (this.#known(id, digest)) {
      this.#onCheck?.('cached');
      return true;
    }
    const fast = this.#fastVerifier(id, hash);
    let ok: boolean | undefined;
    if (fast !== undefined) {
      this.#onCheck?.('fast');
      ok = verifyFastHash(secret, fast);
    } else {
      // While this one waited, another connection of the same device may have been verified.
      const check = async () => {
        if (this.#known(id, digest)) return true;
        this.#onCheck?.('scrypt');
        const matched = await verifySecret(secret, hash);
        if (matched && this.#store && isHubMadeSecret(secret))
          this.#store.put(id, configuredHashDigest(hash), fastHash(secret));
        return matched;
      };
      ok = this.queue ? await this.queue.run(admission.priority, admission.isStale, check) : await check();
    }
    if (ok) this.#verified.set(id, digest.toString('latin1'));
    return ok;
  }

  /** A device retired or given a new secret: what was verified for it is forgotten. */
  forget(id: string): void {
    this.#verified.delete(id);
  }

  /** A fast verifier kept for this configured scrypt hash, if any. */
  #fastVerifier(id: string, hash: string): string | undefined {
    const kept = this.#store?.get(id, configuredHashDigest(hash));
    // A damaged row must not lock a device out: scrypt decides, and keeps a new one.
    return kept !== undefined && isWellFormedFastHash(kept) ? kept : undefined;
  }

  #known(id: string, digest: Buffer): boolean {
    const known = this.#verified.get(id);
    return known !== undefined && timingSafeEqual(Buffer.from(known, 'latin1'), digest);
  }
}
