import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { hashSecret } from '../auth/secrets.js';
import { loadConfigFile, problemsOf } from '../config/load.js';
import { isHubError } from '../errors.js';
import { Hub } from '../main.js';

const USAGE = `Usage: carehub <command> [options]

Commands:
  start --config FILE        run the hub (environment overrides: see docs/configuration.md)
  check-config FILE          validate a configuration file; prints every problem by path, exit 1 if any
  hash-secret [--secret S]   hash a device secret or staff password (reads it from stdin when not given)
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
  const problems = problemsOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${file}: ${msg}\n`);
  for (const p of problems) process.stderr.write(`  ${p.path}: ${p.message}\n`);
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
    process.stdout.write(`${file}: OK (${cfg.homes.length} homes, ${devices} devices, ${cfg.staff.length} staff)\n`);
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
  try {
    hub = new Hub(loadConfigFile(file, process.env));
    await hub.start();
  } catch (err) {
    if (isHubError(err) && (err.code === 'HUB_ERR_CONFIG_INVALID' || err.code === 'HUB_ERR_CONFIG_UNREADABLE')) {
      printConfigError(file, err);
    } else {
      const code = isHubError(err) ? err.code : 'HUB_ERR_START_FAILED';
      process.stderr.write(`carehub: could not start: ${code}: ${(err as Error).message}\n`);
    }
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      hub.log.info({ signal }, 'stopping');
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

async function hashSecretCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { secret: { type: 'string' } }, strict: true });
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
  process.stdout.write(`${await hashSecret(secret)}\n`);
  return 0;
}
