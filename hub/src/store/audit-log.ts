import { createHash } from 'node:crypto';
import type { Db } from './sqlite-db.js';

/** Whoever may add to the trail: the applier (the audit log itself), or an edge that submits an audit entry. */
export interface AuditWriter {
  append(at: number, actor: string, action: string, target: string, data?: Record<string, unknown>): unknown;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface Row {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  data: string;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

function digest(
  prevHash: string,
  seq: number,
  at: number,
  actor: string,
  action: string,
  target: string,
  data: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, seq, at, actor, action, target, data]))
    .digest('hex');
}

/** A head of the chain seen earlier: `SEQ:HASH` or `HASH` as given to `carehub audit verify --expect-head`. */
export interface ExpectedHead {
  seq?: number;
  hash: string;
}

export function parseExpectedHead(text: string): ExpectedHead | undefined {
  const m = /^(?:(\d{1,15}):)?([0-9a-f]{64})$/.exec(text.trim().toLowerCase());
  if (!m || m[2] === undefined) return undefined;
  return m[1] === undefined ? { hash: m[2] } : { seq: Number(m[1]), hash: m[2] };
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  headHash: string;
  /** The number of the last row (the head's `SEQ` for `--expect-head SEQ:HASH`). */
  headSeq: number;
  problems: string[];
}

/**
 * Append-only, hash-chained audit trail: every change to an alert, every read of a resident's
 * details, logins, mode changes, mutes. Triggers refuse UPDATE and DELETE; the chain (each row
 * hashes the previous one) and the head kept in `meta` reveal rows changed or removed behind the
 * hub's back. Export the head hash (it is logged at start) to detect a rewrite of the whole chain.
 */
export class AuditLog implements AuditWriter {
  readonly #insert;
  readonly #last;
  readonly #head;
  readonly #setHead;

  constructor(private readonly db: Db) {
    this.#insert = db.prepare(
      'INSERT INTO audit(seq, at, actor, action, target, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#last = db.prepare<[], { seq: number; hash: string }>(
      'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
    );
    this.#head = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'audit_head'");
    this.#setHead = db.prepare(
      "INSERT INTO meta(key, value) VALUES ('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
  }

  append(
    at: number,
    actor: string,
    action: string,
    target: string,
    data: Record<string, unknown> = {},
  ): AuditEntry {
    return this.db.transaction(() => {
      const last = this.#last.get();
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS;
      const json = JSON.stringify(data);
      const hash = digest(prevHash, seq, at, actor, action, target, json);
      this.#insert.run(seq, at, actor, action, target, json, prevHash, hash);
      this.#setHead.run(JSON.stringify({ seq, hash }));
      return { seq, at, actor, action, target, data, prevHash, hash };
    })();
  }

  query(q: {
    fromMs?: number | undefined;
    toMs?: number | undefined;
    actor?: string | undefined;
    action?: string | undefined;
    afterSeq?: number | undefined;
    limit: number;
  }): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      params.push(value);
    };
    if (q.fromMs !== undefined) add('at >= ?', q.fromMs);
    if (q.toMs !== undefined) add('at < ?', q.toMs);
    if (q.actor) add('actor = ?', q.actor);
    if (q.action) add('action = ?', q.action);
    if (q.afterSeq !== undefined) add('seq > ?', q.afterSeq);
    params.push(q.limit);
    const rows = this.db
      .prepare(
        `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`,
      )
      .all(...params) as Row[];
    return rows.map(fromRow);
  }

  /**
   * Check the chain. `expect`: a head exported earlier (logged at every start, and by `audit verify`);
   * the trail must still contain that row with that hash, so a trail cut back behind it, or rewritten
   * whole, fails even when what is left is a consistent chain.
   */
  verify(expect?: ExpectedHead): VerifyResult {
    const problems: string[] = [];
    let expectedFound = false;
    let prevHash = GENESIS;
    let expectedSeq = 1;
    let rows = 0;
    for (const row of this.db
      .prepare('SELECT * FROM audit ORDER BY seq')
      .iterate() as IterableIterator<Row>) {
      rows++;
      if (row.seq !== expectedSeq)
        problems.push(
          `row ${expectedSeq}${row.seq - expectedSeq > 1 ? `-${row.seq - 1}` : ''} missing (next row is ${row.seq})`,
        );
      if (row.prev_hash !== prevHash)
        problems.push(`row ${row.seq}: does not follow the previous row (chain broken)`);
      const hash = digest(row.prev_hash, row.seq, row.at, row.actor, row.action, row.target, row.data);
      if (hash !== row.hash) problems.push(`row ${row.seq}: content changed (hash mismatch)`);
      if (expect && row.hash === expect.hash && (expect.seq === undefined || expect.seq === row.seq))
        expectedFound = true;
      prevHash = row.hash;
      expectedSeq = row.seq + 1;
    }
    if (expect && !expectedFound)
      problems.push(
        `the expected head ${expect.seq === undefined ? '' : `row ${expect.seq}, `}${expect.hash} is not in the trail: rows were removed or the chain was rewritten`,
      );
    const headRaw = this.#head.get()?.value;
    if (headRaw) {
      const head = JSON.parse(headRaw) as { seq: number; hash: string };
      if (head.seq !== expectedSeq - 1 || head.hash !== prevHash)
        problems.push(
          `the last rows were removed or replaced: head is row ${head.seq}, table ends at ${expectedSeq - 1}`,
        );
    } else if (rows > 0) {
      problems.push('the recorded head of the chain is missing');
    }
    return { ok: problems.length === 0, rows, headHash: prevHash, headSeq: expectedSeq - 1, problems };
  }
}

function fromRow(r: Row): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    data: JSON.parse(r.data) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
