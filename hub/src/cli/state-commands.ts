import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import type { HubConfig } from '../config/schema.js';
import { replayInto } from '../core/replay.js';
import { Replica } from '../core/replica.js';
import { ErrorCodes, HubError, isHubError } from '../errors.js';
import { createLogger } from '../log.js';
import { openLogReader } from '../store/log-reader.js';
import type { StateDigest } from '../store/state-digest.js';

type Out = (text: string) => void;

function configOf(command: string, args: string[]) {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, into: { type: 'string' } },
    strict: true,
  });
  const file = values.config ?? process.env.CAREHUB_CONFIG;
  if (!file)
    throw new HubError(ErrorCodes.BAD_REQUEST, `carehub ${command}: give --config FILE (or CAREHUB_CONFIG)`);
  return { config: loadConfigFile(file, process.env), values };
}

function printDigest(out: Out, d: StateDigest): void {
  out(`position ${d.position}\n`);
  for (const [part, hash] of Object.entries(d.parts)) out(`  ${part.padEnd(8)} ${hash}\n`);
  out(`${d.total}\n`);
}

/**
 * `carehub digest --config FILE`: the state digest of the data dir (CAREHUB_DATA_DIR overrides the
 * file's), as its last line. The data dir is brought up to date with its own log first, as a start
 * would (nothing is added to the log); the hub must not be running on it.
 */
export function digestCommand(args: string[], out: Out): number {
  const { config } = configOf('digest', args);
  if (!existsSync(resolve(config.dataDir, 'hub.db')))
    throw new HubError(ErrorCodes.STORE_UNAVAILABLE, `no hub database in ${config.dataDir}`);
  const replica = Replica.open(config, createLogger('warn'));
  try {
    printDigest(out, replica.digest());
    return 0;
  } finally {
    replica.close();
  }
}

/**
 * `carehub replay --config FILE --into EMPTY_DIR`: rebuild the whole state in EMPTY_DIR from the
 * log of the configured data dir alone, and print its digest (compare it with `carehub digest` of
 * the source). The source is only read, and may be in use by its hub.
 */
export function replayCommand(args: string[], out: Out): number {
  const { config, values } = configOf('replay', args);
  const into = values.into;
  if (!into) throw new HubError(ErrorCodes.BAD_REQUEST, 'carehub replay: give --into EMPTY_DIR');
  if (resolve(into) === resolve(config.dataDir))
    throw new HubError(ErrorCodes.TARGET_NOT_EMPTY, 'carehub replay: --into must not be the source data dir');
  if (existsSync(into) && readdirSync(into).length > 0)
    throw new HubError(ErrorCodes.TARGET_NOT_EMPTY, `carehub replay: ${into} is not empty`);
  const source = openLogReader(config.dataDir);
  const target: Readonly<HubConfig> = { ...config, dataDir: into };
  let replica: Replica | undefined;
  try {
    replica = Replica.open(target, createLogger('warn'));
    const started = performance.now();
    const total = source.last();
    const applied = replayInto(source, replica, (at) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${at}/${total}`);
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    out(`replayed ${applied} entries into ${into} in ${Math.round(performance.now() - started)} ms\n`);
    printDigest(out, replica.digest());
    return 0;
  } finally {
    replica?.close();
    source.close();
  }
}

/** Run a state command, turning its coded errors into a message and exit 1. */
export function runStateCommand(name: string, run: () => number): number {
  try {
    return run();
  } catch (err) {
    const code = isHubError(err) ? err.code : ErrorCodes.INTERNAL;
    process.stderr.write(`carehub ${name}: ${code}: ${(err as Error).message}\n`);
    return 1;
  }
}
