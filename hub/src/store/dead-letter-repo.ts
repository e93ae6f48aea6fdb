import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, HubError } from '../errors.js';
import type { Db } from './sqlite-db.js';

/** One rejected device message, as the `dead_letter` table keeps it. */
export interface DeadLetter {
  id: number;
  /** Hub receive time, epoch ms. */
  receivedAt: number;
  clientId: string;
  topic: string;
  reason: string;
  /** What was wrong and what is expected. */
  detail: string;
  /** The first 8 KiB of the payload as received. */
  payload: Buffer;
}

export interface DeadLetterQuery {
  limit: number;
  reason?: string | undefined;
  clientId?: string | undefined;
}

interface Row {
  id: number;
  received_at: number;
  client_id: string;
  topic: string;
  reason: string;
  detail: string;
  payload: Buffer;
}

/** Reads the dead-letter table, newest first (ingest writes it; retention trims it). */
export class DeadLetterRepo {
  readonly #newest;
  readonly #count;

  constructor(db: Db) {
    // NULL filters match everything: one statement for every combination of filters.
    this.#newest = db.prepare<[{ reason: string | null; client: string | null; limit: number }], Row>(
      `SELECT id, received_at, client_id, topic, reason, detail, payload FROM dead_letter
       WHERE (@reason IS NULL OR reason = @reason) AND (@client IS NULL OR client_id = @client)
       ORDER BY id DESC LIMIT @limit`,
    );
    this.#count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM dead_letter');
  }

  newest(q: DeadLetterQuery): DeadLetter[] {
    return this.#newest
      .all({ reason: q.reason ?? null, client: q.clientId ?? null, limit: q.limit })
      .map((r) => ({
        id: r.id,
        receivedAt: r.received_at,
        clientId: r.client_id,
        topic: r.topic,
        reason: r.reason,
        detail: r.detail,
        payload: r.payload,
      }));
  }

  count(): number {
    return this.#count.get()?.n ?? 0;
  }
}

/**
 * The hub database of a data dir, read-only: a running hub keeps writing it (WAL lets both work),
 * and reading never migrates or changes it.
 */
export function openDatabaseReadOnly(dataDir: string, file = 'hub.db'): Db {
  try {
    return new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new HubError(
      ErrorCodes.STORE_UNAVAILABLE,
      `cannot open the hub database in ${dataDir}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
