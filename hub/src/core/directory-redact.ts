import type { DirectoryOpName } from '../model/directory.js';

/** Shown for a personal value in the audit trail: it was there (and, before/after, whether it changed). */
export const REDACTED = '•';

/** Fields of residents and contacts (and a home's address) that say who and where someone is. */
const PERSONAL = new Set(['address', 'name', 'birthYear', 'notes', 'phone', 'email']);

/** A record fit for the change history: never a secret's or password's hash, only whether there is one. */
export function withoutSecrets(record: object): Record<string, unknown> {
  const { secretHash, passwordHash, ...rest } = record as Record<string, unknown>;
  if ('secretHash' in record) rest.secret = secretHash ? 'set' : 'none';
  if ('passwordHash' in record) rest.password = passwordHash ? 'set' : 'none';
  return rest;
}

/**
 * A before or after fit for the audit trail, which is never erased: a home's personal fields
 * (address, residents' and contacts' names, birth years, notes, phones, emails) become `•`, so the
 * trail shows what changed and by whom while the values themselves live only in the change history
 * (dir_changes), which an erasure removes. Staff, devices and grids carry no resident's data.
 */
export function redactedForAudit(op: DirectoryOpName, value: unknown): unknown {
  if (value === undefined) return null;
  if (!op.startsWith('home.')) return value;
  return redact(value, true);
}

function redact(value: unknown, top: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, false));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // A home's `name` fields are its people's; its rules and ids are not personal.
    if (PERSONAL.has(k) && (typeof v === 'string' || typeof v === 'number')) out[k] = REDACTED;
    else if (k === 'rules' && top) out[k] = v;
    else out[k] = redact(v, false);
  }
  return out;
}

/** The paths of the leaves that differ between `before` and `after` (at most 50): what an audit row says changed. */
export function changedPaths(before: unknown, after: unknown): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (out.length >= 50) return;
    if (a === b) return;
    const objA = a !== null && typeof a === 'object';
    const objB = b !== null && typeof b === 'object';
    if (!objA || !objB) {
      if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path || '(all)');
      return;
    }
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys)
      walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
  };
  // A record made or removed: its fields are what changed.
  const isObj = (v: unknown) => v !== null && v !== undefined && typeof v === 'object';
  walk(before ?? (isObj(after) ? {} : null), after ?? (isObj(before) ? {} : null), '');
  return out;
}

/**
 * A copy with object keys sorted: a record read back from the store may list its keys in another
 * order than the entry that made it, and what the history and the audit trail keep must not depend
 * on that (the state digest, and the audit trail's hash chain, must be the same on every node).
 */
export function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) out[k] = sortedKeys(x);
  }
  return out;
}
