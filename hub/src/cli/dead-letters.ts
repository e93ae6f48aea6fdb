import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { siteTime } from '../log.js';
import { decodeEvent } from '../protocol/decode.js';
import { type DeadLetter, DeadLetterRepo, openDatabaseReadOnly } from '../store/dead-letter-repo.js';

export const DEAD_LETTERS_USAGE = `Usage: carehub dead-letters (--config FILE | --data-dir DIR) [options]

The device messages the hub rejected, newest first: when, which device, which topic, why, and
what was expected.

  --config FILE     the site configuration (its dataDir and time zone)
  --data-dir DIR    the hub's data dir (default: $CAREHUB_DATA_DIR)
  --limit N         how many (default 20, at most 10000)
  --reason R        only this reason (unknown_type, invalid_payload, not_json, …)
  --device ID       only this device (MQTT client id)
  --payload         also the payload as received (first 300 bytes) and the detail with the
                    device's own text; both may hold anything a device sent
  --json            one JSON object per line
`;

export interface CliOut {
  out(text: string): void;
  err(text: string): void;
}

interface Options {
  config?: string | undefined;
  'data-dir'?: string | undefined;
  limit?: string | undefined;
  reason?: string | undefined;
  device?: string | undefined;
  payload?: boolean | undefined;
  json?: boolean | undefined;
  help?: boolean | undefined;
}

/** `carehub dead-letters`: read the dead-letter table of a data dir. Returns the exit code. */
export function deadLettersCommand(args: string[], io: CliOut, env: NodeJS.ProcessEnv): number {
  let values: Options;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        limit: { type: 'string' },
        reason: { type: 'string' },
        device: { type: 'string' },
        payload: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`carehub dead-letters: ${(err as Error).message}\n\n${DEAD_LETTERS_USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out(DEAD_LETTERS_USAGE);
    return 0;
  }
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    io.err(`carehub dead-letters: --limit must be a whole number from 1 to 10000, got "${values.limit}"\n`);
    return 1;
  }
  let dataDir = values['data-dir'];
  let timezone: string | undefined;
  if (values.config) {
    try {
      const config = loadConfigFile(values.config, env);
      dataDir ??= config.dataDir;
      timezone = config.site.timezone;
    } catch (err) {
      io.err(
        `carehub dead-letters: ${values.config}: ${(err as Error).message} (run carehub check-config)\n`,
      );
      return 1;
    }
  }
  dataDir ??= env.CAREHUB_DATA_DIR;
  if (!dataDir) {
    io.err(`carehub dead-letters: give --config FILE or --data-dir DIR\n\n${DEAD_LETTERS_USAGE}`);
    return 1;
  }
  if (!existsSync(join(dataDir, 'hub.db'))) {
    io.err(`carehub dead-letters: no hub database in ${dataDir} (the demo's is in data/demo)\n`);
    return 1;
  }
  const db = openDatabaseReadOnly(dataDir);
  try {
    const repo = new DeadLetterRepo(db);
    const rows = repo.newest({ limit, reason: values.reason, clientId: values.device });
    const withPayload = values.payload === true;
    if (values.json) {
      for (const r of rows) io.out(`${JSON.stringify(asJson(r, timezone, withPayload))}\n`);
      return 0;
    }
    const total = repo.count();
    if (rows.length === 0) {
      io.out(`no rejected messages${total > 0 ? ' match' : ''} in ${dataDir} (${total} in all)\n`);
      return 0;
    }
    io.out(`${rows.length} of ${total} rejected messages in ${dataDir}, newest first:\n\n`);
    for (const r of rows) io.out(describe(r, timezone, withPayload));
    return 0;
  } finally {
    db.close();
  }
}

function describe(r: DeadLetter, timezone: string | undefined, withPayload: boolean): string {
  const lines = [
    `${siteTime(r.receivedAt, timezone).slice(0, 19)}  ${r.clientId}  ${r.reason}  ${r.topic}`,
    `    ${withPayload ? r.detail : safeDetail(r)}`,
  ];
  if (withPayload) lines.push(`    payload (${r.payload.length} bytes): ${printable(r.payload)}`);
  return `${lines.join('\n')}\n`;
}

function asJson(r: DeadLetter, timezone: string | undefined, withPayload: boolean) {
  return {
    id: r.id,
    at: siteTime(r.receivedAt, timezone),
    receivedAtMs: r.receivedAt,
    device: r.clientId,
    topic: r.topic,
    reason: r.reason,
    detail: withPayload ? r.detail : safeDetail(r),
    bytes: r.payload.length,
    ...(withPayload ? { payload: r.payload.toString('utf8') } : {}),
  };
}

/**
 * The detail without the device's own text, as the hub's log has it: the stored detail quotes
 * what the device sent (an unknown type, a bad value), which may be anything, even a name.
 */
function safeDetail(r: DeadLetter): string {
  if (r.reason !== 'unknown_type' && r.reason !== 'invalid_payload') return r.detail;
  const again = decodeEvent(r.payload, Number.POSITIVE_INFINITY);
  return !again.ok && again.logDetail ? again.logDetail : r.detail;
}

/** The payload's text with control characters escaped, cut at 300 bytes. */
function printable(payload: Buffer): string {
  const text = payload.subarray(0, 300).toString('utf8');
  const escaped = JSON.stringify(text).slice(1, -1);
  return payload.length > 300 ? `${escaped}…` : escaped;
}
