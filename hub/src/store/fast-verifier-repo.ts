import { type Db, withoutFsync } from './sqlite-db.js';

/** How long new verifiers wait to be written together (a cold admission makes hundreds a second). */
const WRITE_BEHIND_MS = 1000;

/**
 * Fast verifiers of device secrets (auth/secrets.ts, FastVerifierStore): for a device whose
 * configured hash is scrypt and whose secret is a hub-made one, the fast hash made when that secret
 * first verified, so that the device's next admission, also after a restart, costs an HMAC instead
 * of a scrypt. Each row names the configured hash it was made under (a digest of it): when the
 * configuration changes that device's hash, the row no longer answers and the next successful check
 * replaces it.
 *
 * Written behind, in batches, without waiting for an fsync: a row lost in a power cut only costs
 * that device one more scrypt. The table is made here, not in the migrations: nothing else reads it,
 * and dropping it loses nothing but speed.
 */
export class FastVerifierRepo {
  readonly #get;
  readonly #put;
  readonly #pending = new Map<string, { digest: string; verifier: string }>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    /** A batch that could not be written (its devices then cost one more scrypt next time). */
    private readonly onError: (err: Error) => void = () => {},
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS device_fast_verifier (
      device_id TEXT PRIMARY KEY,
      hash_digest TEXT NOT NULL,
      verifier TEXT NOT NULL
    )`);
    this.#get = db.prepare<[string, string], { verifier: string }>(
      'SELECT verifier FROM device_fast_verifier WHERE device_id = ? AND hash_digest = ?',
    );
    this.#put = db.prepare<[string, string, string]>(
      `INSERT INTO device_fast_verifier(device_id, hash_digest, verifier) VALUES (?, ?, ?)
       ON CONFLICT(device_id) DO UPDATE SET hash_digest = excluded.hash_digest, verifier = excluded.verifier`,
    );
  }

  get(deviceId: string, configuredHashDigest: string): string | undefined {
    const pending = this.#pending.get(deviceId);
    if (pending) return pending.digest === configuredHashDigest ? pending.verifier : undefined;
    return this.#get.get(deviceId, configuredHashDigest)?.verifier;
  }

  put(deviceId: string, configuredHashDigest: string, verifier: string): void {
    this.#pending.set(deviceId, { digest: configuredHashDigest, verifier });
    this.#timer ??= setTimeout(() => this.flush(), WRITE_BEHIND_MS).unref();
  }

  /** Write what is pending (the hub calls this at stop too). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0 || !this.db.open) return;
    const rows = [...this.#pending];
    this.#pending.clear();
    try {
      withoutFsync(this.db, () =>
        this.db.transaction(() => {
          for (const [id, row] of rows) this.#put.run(id, row.digest, row.verifier);
        })(),
      );
    } catch (err) {
      this.onError(err as Error);
    }
  }
}
