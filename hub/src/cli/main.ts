import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fastHash, generateDeviceSecret, isHubMadeSecret } from '../auth/device-secrets.js';
import { hashSecret } from '../auth/secrets.js';
import { loadConfigFile } from '../config/load.js';
import { ErrorCodes, isHubError } from '../errors.js';
import { HeapGovernor, operatorSetHeapGrowth } from '../heap-governor.js';
import { Hub } from '../main.js';
import { collectGarbage } from '../memory.js';
import { missingNodeFlags } from '../node-flags.js';
import { notifyWarnings } from '../notify/warnings.js';
import { AuditLog, parseExpectedHead } from '../store/audit-log.js';
import { openDatabase } from '../store/sqlite-db.js';
import { type PurgeSummary, purgeResident } from '../timeseries/index.js';
import { describeConfigError } from './config-problems.js';
import { deadLettersCommand } from './dead-letters.js';
import { importCommand } from './import-command.js';
import { installProcessPolicy } from './process-policy.js';
import { digestCommand, replayCommand, runStateCommand } from './state-commands.js';

const USAGE = `Usage: carehub <command> [options]

Commands:
  start --config FILE        run the hub (environment overrides: see docs/configuration.md)
  check-config FILE          validate a configuration file; each problem once, with line:column, the
                             value and what is allowed; exit 1 if any
  hash-secret [--secret S]   hash a device secret or staff password (reads it from stdin when not given)
  hash-secret --generate     make a new device secret (shown once) and its fast hash for the configuration
  hash-secret --fast [--secret S]
                             the fast hash of a device secret made by the hub (chs1_…)
  purge-resident ID --config FILE [--yes] [--force]
                             erase a resident's home data from SQLite and InfluxDB (shows what first)
  digest --config FILE       the state digest of the data dir (CAREHUB_DATA_DIR overrides), as the last line
  import --config FILE [--dry-run]
                             apply the file's homes, devices, staff and grids to the data dir's directory
                             (added or replaced by id, nothing removed; the hub must be stopped)
  replay --config FILE --into EMPTY_DIR
                             rebuild the whole state in EMPTY_DIR from the data dir's log alone; prints its digest
  audit verify (--config FILE | --data-dir DIR) [--expect-head SEQ:HASH]
                             check the audit trail's hash chain; exit 1 if a row was changed or removed,
                             or if the head exported earlier (printed here, logged at start) is gone
  dead-letters (--config FILE | --data-dir DIR) [--limit N] [--reason R] [--device ID] [--json]
                             the device messages the hub rejected, newest first, and why
  help                       this text
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'check-config':
      return checkConfig(rest);
    case 'hash-secret':
      return hashSecretCommand(rest);
    case 'audit':
      return auditCommand(rest);
    case 'digest':
      return runStateCommand('digest', () => digestCommand(rest, (t) => process.stdout.write(t)));
    case 'replay':
      return runStateCommand('replay', () => replayCommand(rest, (t) => process.stdout.write(t)));
    case 'import':
      return runStateCommand('import', () => importCommand(rest, (t) => process.stdout.write(t)));
    case 'purge-resident':
      return purgeResidentCommand(rest);
    case 'dead-letters':
      return deadLettersCommand(
        rest,
        { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
        process.env,
      );
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`carehub: unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

function printConfigError(file: string, err: unknown): void {
  process.stderr.write(describeConfigError(file, err));
}

function checkConfig(args: string[]): number {
  const file = args.find((a) => !a.startsWith('-'));
  if (!file) {
    process.stderr.write('carehub check-config: give a configuration file\n');
    return 1;
  }
  try {
    const cfg = loadConfigFile(file, process.env);
    const devices = cfg.homes.reduce((n, h) => n + h.devices.length, 0);
    process.stdout.write(
      `${file}: OK (${cfg.homes.length} homes, ${devices} devices, ${cfg.staff.length} staff)\n`,
    );
    // Not errors: the hub starts, but someone would not be told (docs/notifications.md).
    for (const w of notifyWarnings(cfg)) process.stdout.write(`  warning: ${w.path}: ${w.message}\n`);
    return 0;
  } catch (err) {
    printConfigError(file, err);
    return 1;
  }
}

async function start(args: string[]): Promise<number> {
  let values: { config?: string | undefined };
  try {
    ({ values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`carehub start: ${(err as Error).message}\n`);
    return 1;
  }
  const file = values.config ?? process.env.CAREHUB_CONFIG;
  if (!file) {
    process.stderr.write('carehub start: give --config FILE (or CAREHUB_CONFIG)\n');
    return 1;
  }
  let hub: Hub;
  let governor: HeapGovernor | undefined;
  try {
    hub = new Hub(loadConfigFile(file, process.env));
    installProcessPolicy(hub);
    await hub.start();
    // Before the collection below, so the heap limit V8 sets after it is already the tight one.
    governor = startHeapGovernor(hub);
    const missing = missingNodeFlags();
    if (missing.length > 0)
      hub.log.info(
        { missing },
        'node was started without the production options: more CPU per event under load (docs/operations.md, Memory)',
      );
    // What loading the site left behind (YAML document, validation copies) goes now, not in V8's time.
    collectGarbage();
  } catch (err) {
    governor?.stop();
    if (
      isHubError(err) &&
      (err.code === 'HUB_ERR_CONFIG_INVALID' || err.code === 'HUB_ERR_CONFIG_UNREADABLE')
    ) {
      printConfigError(file, err);
    } else {
      const code = isHubError(err) ? err.code : ErrorCodes.START_FAILED;
      process.stderr.write(`carehub: could not start: ${code}: ${(err as Error).message}\n`);
    }
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      hub.log.info({ signal }, 'stopping');
      governor?.stop();
      hub.stop().then(resolve, (err: unknown) => {
        hub.log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

/** The process's heap sizing follows the hub's load, unless the operator chose V8's growth on node's command line. */
function startHeapGovernor(hub: Hub): HeapGovernor | undefined {
  if (operatorSetHeapGrowth()) {
    hub.log.info('heap growth set on the node command line; the heap governor is off');
    return undefined;
  }
  const governor = new HeapGovernor({
    rowsSoFar: () => hub.store.journal.lastSeq(),
    now: () => performance.now(),
    log: hub.log.child({ mod: 'memory' }),
  });
  governor.start();
  return governor;
}

async function hashSecretCommand(args: string[]): Promise<number> {
  let values: { secret?: string | undefined; generate?: boolean | undefined; fast?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { secret: { type: 'string' }, generate: { type: 'boolean' }, fast: { type: 'boolean' } },
      strict: true,
    }));
    if (values.generate && (values.secret !== undefined || values.fast))
      throw new Error('--generate makes its own secret: no --secret or --fast with it');
  } catch (err) {
    process.stderr.write(`carehub hash-secret: ${(err as Error).message}\n`);
    return 1;
  }
  if (values.generate) {
    // The secret on stdout once, for the device; the hash for the configuration.
    const secret = generateDeviceSecret();
    process.stdout.write(`secret: ${secret}\nsecretHash: "${fastHash(secret)}"\n`);
    return 0;
  }
  let secret = values.secret;
  if (secret === undefined) {
    if (process.stdin.isTTY) process.stderr.write('Secret (at least 8 characters): ');
    const rl = createInterface({ input: process.stdin });
    secret = await new Promise<string>((resolve) => {
      rl.once('line', (line) => resolve(line));
      rl.once('close', () => resolve(''));
    });
    rl.close();
  }
  if (!secret || secret.length < 8) {
    process.stderr.write('carehub hash-secret: the secret must be at least 8 characters\n');
    return 1;
  }
  if (values.fast) {
    if (!isHubMadeSecret(secret)) {
      process.stderr.write(
        'carehub hash-secret: --fast is only for secrets made by the hub (chs1_…, from --generate); a secret a person chose needs scrypt (leave out --fast)\n',
      );
      return 1;
    }
    process.stdout.write(`${fastHash(secret)}\n`);
    return 0;
  }
  process.stdout.write(`${await hashSecret(secret)}\n`);
  return 0;
}

function auditCommand(args: string[]): number {
  const [sub, ...rest] = args;
  if (sub !== 'verify') {
    process.stderr.write(
      'Usage: carehub audit verify (--config FILE | --data-dir DIR) [--expect-head SEQ:HASH]\n',
    );
    return 1;
  }
  let values: {
    config?: string | undefined;
    'data-dir'?: string | undefined;
    'expect-head'?: string | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        'expect-head': { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`carehub audit verify: ${(err as Error).message}\n`);
    return 1;
  }
  const expectText = values['expect-head'];
  const expect = expectText === undefined ? undefined : parseExpectedHead(expectText);
  if (expectText !== undefined && !expect) {
    process.stderr.write(
      'carehub audit verify: --expect-head takes SEQ:HASH (or HASH), the 64 hex digits printed by an earlier verify or logged at start\n',
    );
    return 1;
  }
  let dataDir = values['data-dir'] ?? process.env.CAREHUB_DATA_DIR;
  if (!dataDir && values.config) {
    try {
      dataDir = loadConfigFile(values.config, process.env).dataDir;
    } catch (err) {
      printConfigError(values.config, err);
      return 1;
    }
  }
  if (!dataDir) {
    process.stderr.write('carehub audit verify: give --config FILE or --data-dir DIR\n');
    return 1;
  }
  if (!existsSync(join(dataDir, 'hub.db'))) {
    process.stderr.write(`carehub audit verify: no hub database in ${dataDir}\n`);
    return 1;
  }
  const db = openDatabase(dataDir);
  try {
    const result = new AuditLog(db).verify(expect);
    if (result.ok) {
      process.stdout.write(
        `audit trail OK: ${result.rows} rows, head ${result.headSeq}:${result.headHash}${expect ? ' (contains the expected head)' : ''}\n`,
      );
      return 0;
    }
    process.stdout.write(`audit trail DOES NOT VERIFY (${result.rows} rows):\n`);
    for (const p of result.problems) process.stdout.write(`  ${p}\n`);
    return 1;
  } finally {
    db.close();
  }
}

function describePurge(s: PurgeSummary): string {
  const lines = [
    `resident ${s.residentId}, home ${s.homeId}${s.sharedWith.length ? ` (shared with ${s.sharedWith.join(', ')}: their home data goes too)` : ''}`,
    `  SQLite: ${s.sqlite.journal} device events, ${s.sqlite.alerts} alerts, ${s.sqlite.feedLog} feed entries, ${s.sqlite.deviceDeadLetters + s.sqlite.storeDeadLetters} dead letters`,
    `  InfluxDB: ${s.influx}${s.influxMeasurements.length ? ` (${s.influxMeasurements.join(', ')})` : ''}${s.influxError ? ` — ${s.influxError}` : ''}`,
  ];
  if (s.unresolvedAlerts > 0)
    lines.push(`  ${s.unresolvedAlerts} alert(s) of this home are still unresolved`);
  return `${lines.join('\n')}\n`;
}

async function purgeResidentCommand(args: string[]): Promise<number> {
  let parsed: {
    values: { config?: string | undefined; yes?: boolean | undefined; force?: boolean | undefined };
    positionals: string[];
  };
  try {
    parsed = parseArgs({
      args,
      options: { config: { type: 'string' }, yes: { type: 'boolean' }, force: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`carehub purge-resident: ${(err as Error).message}\n`);
    return 1;
  }
  const residentId = parsed.positionals[0];
  const file = parsed.values.config ?? process.env.CAREHUB_CONFIG;
  if (!residentId || !file) {
    process.stderr.write('Usage: carehub purge-resident RESIDENT_ID --config FILE [--yes] [--force]\n');
    return 1;
  }
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(file, process.env);
  } catch (err) {
    printConfigError(file, err);
    return 1;
  }
  try {
    const preview = await purgeResident({ config, residentId, dryRun: true, force: parsed.values.force });
    process.stdout.write(`This will erase:\n${describePurge(preview)}`);
    if (!parsed.values.yes) {
      if (!process.stdin.isTTY) {
        process.stderr.write(
          'carehub purge-resident: nothing erased; confirm with --yes (or run it in a terminal)\n',
        );
        return 1;
      }
      process.stdout.write(`Type the resident id (${residentId}) to confirm: `);
      const rl = createInterface({ input: process.stdin });
      const answer = await new Promise<string>((resolve) => rl.once('line', resolve));
      rl.close();
      if (answer.trim() !== residentId) {
        process.stdout.write('Not confirmed; nothing erased.\n');
        return 1;
      }
    }
    const done = await purgeResident({ config, residentId, force: parsed.values.force });
    process.stdout.write(`Erased:\n${describePurge(done)}`);
    return 0;
  } catch (err) {
    const code = isHubError(err) ? err.code : 'HUB_ERR_INTERNAL';
    process.stderr.write(`carehub purge-resident: ${code}: ${(err as Error).message}\n`);
    return 1;
  }
}
