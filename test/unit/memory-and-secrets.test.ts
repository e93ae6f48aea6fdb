import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { hashSecret, SecretVerifier } from '../../hub/src/auth/secrets.js';
import { collectGarbage } from '../../hub/src/memory.js';

const CHEAP = { N: 16, r: 8, p: 1, keyLen: 32 };

describe('collectGarbage', () => {
  it('collects, and leaves gc hidden from the process and from new contexts', () => {
    const exposed = typeof globalThis.gc;
    expect(collectGarbage()).toBe(true);
    expect(typeof globalThis.gc).toBe(exposed);
    if (exposed === 'undefined') expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});

describe('SecretVerifier', () => {
  it('accepts the right secret, first by scrypt and then from its cache, and refuses a wrong one', async () => {
    const hash = await hashSecret('right-secret', CHEAP);
    const verifier = new SecretVerifier();
    expect(await verifier.verify('dev-1', 'wrong-secret', hash)).toBe(false);
    expect(await verifier.verify('dev-1', 'right-secret', hash)).toBe(true);
    expect(await verifier.verify('dev-1', 'right-secret', hash)).toBe(true);
    expect(await verifier.verify('dev-1', 'wrong-secret', hash)).toBe(false);
    expect(await verifier.verify('dev-1', 'right-secret', hash)).toBe(true);
  });

  it('keeps what verified per device and per hash', async () => {
    const hash = await hashSecret('right-secret', CHEAP);
    const other = await hashSecret('other-secret', CHEAP);
    const verifier = new SecretVerifier();
    expect(await verifier.verify('dev-1', 'right-secret', hash)).toBe(true);
    expect(await verifier.verify('dev-2', 'right-secret', other)).toBe(false);
    expect(await verifier.verify('dev-1', 'right-secret', other)).toBe(false);
    expect(await verifier.verify('dev-2', 'other-secret', other)).toBe(true);
  });
});
