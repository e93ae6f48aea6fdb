import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AdmissionQueue } from '../../hub/src/auth/admission-queue.js';
import {
  fastHash,
  generateDeviceSecret,
  isHubMadeSecret,
  verifyFastHash,
} from '../../hub/src/auth/device-secrets.js';
import {
  type CheckMethod,
  configuredHashDigest,
  type FastVerifierStore,
  hashSecret,
  SecretVerifier,
} from '../../hub/src/auth/secrets.js';
import { FastVerifierRepo } from '../../hub/src/store/fast-verifier-repo.js';
import { openDatabase } from '../../hub/src/store/sqlite-db.js';
import { tempDir } from '../helpers/hub.js';

/** Issue 16, item 8: hub-made device secrets, their fast hash, and the fast verifier kept for a scrypt entry. */

const CHEAP = { N: 1024, r: 8, p: 1, keyLen: 32 };

class MemoryStore implements FastVerifierStore {
  readonly rows = new Map<string, { digest: string; verifier: string }>();
  get(id: string, digest: string): string | undefined {
    const row = this.rows.get(id);
    return row?.digest === digest ? row.verifier : undefined;
  }
  put(id: string, digest: string, verifier: string): void {
    this.rows.set(id, { digest, verifier });
  }
}

/** A verifier as the broker makes it (admission queue, store), recording how each check was decided. */
function verifier(store: FastVerifierStore): {
  v: SecretVerifier;
  methods: CheckMethod[];
  queue: AdmissionQueue;
} {
  const methods: CheckMethod[] = [];
  const queue = new AdmissionQueue(1);
  return { v: new SecretVerifier(queue, { store, onCheck: (m) => methods.push(m) }), methods, queue };
}

describe('hub-made device secrets', () => {
  it('are chs1_ and 192 random bits in base64url, never twice the same', () => {
    const secrets = Array.from({ length: 200 }, generateDeviceSecret);
    for (const s of secrets) {
      expect(s).toMatch(/^chs1_[A-Za-z0-9_-]{32}$/);
      expect(Buffer.from(s.slice(5), 'base64url')).toHaveLength(24);
      expect(isHubMadeSecret(s)).toBe(true);
    }
    expect(new Set(secrets).size).toBe(200);
    expect(isHubMadeSecret(`chs1_${'AbCdEfGhIjKlMnOpQrStUv'}`)).toBe(true); // 22 characters, 132 bits: the least
    expect(isHubMadeSecret(`chs1_${'AbCdEfGhIjKlMnOpQrStU'}`)).toBe(false);
  });

  it('are told apart from secrets people choose, short ones and typed look-alikes', () => {
    for (const s of [
      'h1-sos-demo',
      'correct horse battery staple',
      'chs1_short',
      `chs1_${'a'.repeat(32)}`,
      `chs1_${'abcab'.repeat(7)}`,
      `chs2_${generateDeviceSecret().slice(5)}`,
      `${generateDeviceSecret()}!`,
      `${generateDeviceSecret().slice(0, -1)}+`,
      `chs1_${'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_'.repeat(3)}`, // 114 characters: too long
    ])
      expect(isHubMadeSecret(s), s).toBe(false);
  });

  it('have a fast hash with a salt per device that verifies only the secret it was made from', () => {
    const secret = generateDeviceSecret();
    const a = fastHash(secret);
    const b = fastHash(secret);
    expect(a).toMatch(/^hmac-sha256\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b); // fresh salt each time
    expect(verifyFastHash(secret, a)).toBe(true);
    expect(verifyFastHash(secret, b)).toBe(true);
    expect(verifyFastHash(generateDeviceSecret(), a)).toBe(false);
    const [prefix, salt, digest] = a.split('$') as [string, string, string];
    const flipped = Buffer.from(digest, 'base64');
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(verifyFastHash(secret, `${prefix}$${salt}$${flipped.toString('base64')}`)).toBe(false);
    expect(verifyFastHash(secret, `${prefix}$${salt}`)).toBe(false);
    expect(verifyFastHash(secret, `${prefix}$AAAA$${digest}`)).toBe(false);
  });

  it('refuse to give a person-chosen secret a fast hash, and never admit one against a fast hash', () => {
    expect(() => fastHash('h1-sos-demo')).toThrow(/scrypt/);
    // a fast hash made by hand for a chosen secret (HMAC keyed with a salt) still admits nothing
    const salt = Buffer.alloc(16, 7);
    const forged = `hmac-sha256$${salt.toString('base64')}$${createHmac('sha256', salt).update('h1-sos-demo').digest('base64')}`;
    expect(verifyFastHash('h1-sos-demo', forged)).toBe(false);
  });
});

describe('SecretVerifier with fast verifiers', () => {
  it('checks a hub-made secret with scrypt once, keeps a fast verifier, and skips scrypt after a restart', async () => {
    const secret = generateDeviceSecret();
    const hash = await hashSecret(secret, CHEAP);
    const store = new MemoryStore();
    const first = verifier(store);
    expect(await first.v.verify('dev-1', secret, hash)).toBe(true);
    expect(first.methods).toEqual(['scrypt']);
    expect(store.rows.get('dev-1')?.digest).toBe(configuredHashDigest(hash));
    expect(verifyFastHash(secret, store.rows.get('dev-1')?.verifier ?? '')).toBe(true);

    const restarted = verifier(store); // a new process: empty cache, same store
    expect(await restarted.v.verify('dev-1', 'wrong-secret', hash)).toBe(false);
    expect(await restarted.v.verify('dev-1', generateDeviceSecret(), hash)).toBe(false);
    expect(await restarted.v.verify('dev-1', secret, hash)).toBe(true);
    expect(await restarted.v.verify('dev-1', secret, hash)).toBe(true);
    expect(restarted.methods).toEqual(['fast', 'fast', 'fast', 'cached']);
    expect(restarted.queue.stats.run).toBe(0);
  });

  it('forgets the kept verifier when the configured hash changes, and replaces a damaged one', async () => {
    const secret = generateDeviceSecret();
    const store = new MemoryStore();
    const oldHash = await hashSecret(secret, CHEAP);
    await verifier(store).v.verify('dev-1', secret, oldHash);
    const rotated = generateDeviceSecret();
    const newHash = await hashSecret(rotated, CHEAP);
    const next = verifier(store);
    expect(await next.v.verify('dev-1', secret, newHash)).toBe(false); // the old secret: scrypt says no
    expect(await next.v.verify('dev-1', rotated, newHash)).toBe(true);
    expect(next.methods).toEqual(['scrypt', 'scrypt']);
    expect(store.rows.get('dev-1')?.digest).toBe(configuredHashDigest(newHash));

    store.put('dev-1', configuredHashDigest(newHash), 'hmac-sha256$garbage');
    const damaged = verifier(store);
    expect(await damaged.v.verify('dev-1', rotated, newHash)).toBe(true);
    expect(damaged.methods).toEqual(['scrypt']);
    expect(verifyFastHash(rotated, store.rows.get('dev-1')?.verifier ?? '')).toBe(true);
  });

  it('keeps person-chosen secrets on scrypt: nothing is kept for them', async () => {
    const hash = await hashSecret('h1-sos-demo', CHEAP);
    const store = new MemoryStore();
    for (let i = 0; i < 2; i++) {
      const run = verifier(store);
      expect(await run.v.verify('h1-sos', 'h1-sos-demo', hash)).toBe(true);
      expect(run.methods).toEqual(['scrypt']);
    }
    expect(store.rows.size).toBe(0);
  });

  it('verifies a configured fast hash at once, without the admission queue, and only for a hub-made secret', async () => {
    const secret = generateDeviceSecret();
    const hash = fastHash(secret);
    const run = verifier(new MemoryStore());
    expect(await run.v.verify('dev-2', secret, hash)).toBe(true);
    expect(await run.v.verify('dev-3', 'h1-sos-demo', hash)).toBe(false);
    expect(run.methods).toEqual(['fast', 'fast']);
    expect(run.queue.stats.run).toBe(0);
  });
});

describe('FastVerifierRepo', () => {
  it('answers for the device and configured hash it was kept for, before and after it is written, across a reopen', () => {
    const dir = tempDir();
    try {
      const db = openDatabase(dir);
      const repo = new FastVerifierRepo(db);
      const v = fastHash(generateDeviceSecret());
      repo.put('dev-1', 'digest-a', v);
      expect(repo.get('dev-1', 'digest-a')).toBe(v); // pending
      expect(repo.get('dev-1', 'digest-b')).toBeUndefined();
      repo.flush();
      expect(repo.get('dev-1', 'digest-a')).toBe(v);
      db.close();
      const again = new FastVerifierRepo(openDatabase(dir));
      expect(again.get('dev-1', 'digest-a')).toBe(v);
      expect(again.get('dev-1', 'digest-b')).toBeUndefined();
      expect(again.get('dev-2', 'digest-a')).toBeUndefined();
      const w = fastHash(generateDeviceSecret());
      again.put('dev-1', 'digest-b', w);
      again.flush();
      expect(again.get('dev-1', 'digest-a')).toBeUndefined();
      expect(again.get('dev-1', 'digest-b')).toBe(w);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
