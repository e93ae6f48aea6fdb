import { parseArgs } from 'node:util';
import { type CliIo, processIo } from './cli-io.js';
import { commandsFor, ONE_SHOT_COMMANDS, oneShotCommand } from './commands.js';
import { actionProblem } from './drill/actions.js';
import { type EventExtras, SimDevice, SimDeviceError } from './sim-device.js';
import { SUBCOMMANDS, subcommandLines } from './subcommands.js';
import { resolveTarget, UsageError } from './target.js';

const DEFAULT_TIMEOUT_MS = 5000;
/** How long press/smoke wait for the hub's alert.received after the PUBACK. */
const ALERT_WAIT_MS = 3000;

export type { CliIo } from './cli-io.js';

const width = Math.max(...Object.keys(ONE_SHOT_COMMANDS).map((c) => c.length)) + ' DEVICE'.length + 2;
const commandLines = Object.entries(ONE_SHOT_COMMANDS)
  .map(([name, c]) => `  ${`${name} DEVICE`.padEnd(width)}${c.event}: ${c.help}`)
  .join('\n');

export const USAGE = `Usage: carehub-sim <command> DEVICE [options]
       carehub-sim <drill command> [options]   (each has its own --help)

Sends one event as a configured device to a running hub and waits until the hub has
acknowledged it (PUBACK: the event is durably stored). Exit code 0 on success, 1 otherwise.

Commands:
${commandLines}
  ${'help'.padEnd(width)}this text

Drill commands:
${subcommandLines()}

Options:
  -c, --config FILE   site configuration naming the device (default config/demo.yaml)
  --secret SECRET     the device's secret (default: $CAREHUB_DEVICE_SECRET, then the
                      device's demoSecret in a demo configuration)
  --hub-mqtt URL      the hub's MQTT address (default: ports.json in the hub's data dir,
                      else mqtt://127.0.0.1:<mqtt.port of the configuration>)
  --data-dir DIR      the hub's data dir, for ports.json (default: $CAREHUB_DATA_DIR, else
                      dataDir of the configuration)
  --battery N         add a battery level (0-100) to the event
  --rssi N            add a signal strength (dBm) to the event
  --timeout MS        how long to wait for the hub (default ${DEFAULT_TIMEOUT_MS})
  -h, --help          this text

Examples:
  carehub-sim press h1-sos
  carehub-sim heartbeat h2-smoke --battery 15
  carehub-sim open door-7 --config site.yaml --hub-mqtt mqtt://hub.local:1883
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  secret: { type: 'string' },
  'hub-mqtt': { type: 'string' },
  'data-dir': { type: 'string' },
  battery: { type: 'string' },
  rssi: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `carehub-sim`: returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const sub = argv[0] === undefined ? undefined : SUBCOMMANDS.get(argv[0]);
  if (sub) return sub.run(argv.slice(1), io);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`carehub-sim: ${(err as Error).message}\n\nRun carehub-sim --help for usage.\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [name, deviceId, ...extra] = positionals;
  if (values.help || name === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (name === undefined) {
    io.err(USAGE);
    return 1;
  }
  const command = oneShotCommand(name);
  if (!command) {
    const known = [...Object.keys(ONE_SHOT_COMMANDS), ...SUBCOMMANDS.keys()].join(', ');
    io.err(`carehub-sim: unknown command "${name}" (commands: ${known}; see carehub-sim --help)\n`);
    return 1;
  }
  try {
    if (!deviceId) throw new UsageError(`${name}: give the device id, e.g. carehub-sim ${name} h1-sos`);
    if (extra.length > 0) throw new UsageError(`${name}: unexpected argument "${extra[0]}"`);
    const extras = eventExtras(values.battery, values.rssi);
    const timeoutMs =
      values.timeout === undefined ? DEFAULT_TIMEOUT_MS : number('--timeout', values.timeout, 100, 600_000);
    const target = resolveTarget({
      deviceId,
      configFile: values.config,
      secret: values.secret,
      hubMqtt: values['hub-mqtt'],
      dataDir: values['data-dir'],
      env: io.env,
      cwd: io.cwd,
    });
    // One rule with scenario drills: an SOS comes from an SOS button, not from a door sensor.
    const problem = actionProblem(command.action, target.device.kind, false);
    if (problem) {
      throw new UsageError(
        `${deviceId} is a ${target.device.kind}: ${problem}. ${deviceId} can: ${commandsFor(target.device.kind).join(', ')}`,
      );
    }
    const device = new SimDevice({ url: target.url, id: deviceId, secret: target.secret, timeoutMs });
    try {
      await device.start();
    } catch (err) {
      if (!(err instanceof SimDeviceError)) throw err;
      io.err(
        `carehub-sim: cannot connect as ${deviceId} to ${target.url}: ${err.message}\n  (hub address from ${target.urlSource})\n`,
      );
      return 1;
    }
    try {
      const sent = await device.send(command.event, extras);
      io.out(`${deviceId}: ${sent.type} sent (id ${sent.id}), acknowledged by the hub at ${target.url}\n`);
      if (command.expectsAlert) {
        try {
          const reply = await device.nextCommand((c) => c.type === 'alert.received', ALERT_WAIT_MS);
          io.out(`${deviceId}: hub replied ${JSON.stringify(reply)}\n`);
        } catch {
          io.err(
            `${deviceId}: no alert.received from the hub within ${ALERT_WAIT_MS / 1000} s (the event itself is stored)\n`,
          );
        }
      }
    } finally {
      await device.stop();
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof SimDeviceError) {
      io.err(`carehub-sim: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: joinNegativeValues(argv),
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
}

/** parseArgs reads `--rssi -71` as two options; a signal strength is negative, so pass it as `--rssi=-71`. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg === '--rssi' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--rssi=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function eventExtras(battery: string | undefined, rssi: string | undefined): EventExtras {
  return {
    ...(battery === undefined ? {} : { battery: number('--battery', battery, 0, 100) }),
    ...(rssi === undefined ? {} : { rssi: number('--rssi', rssi, -200, 200) }),
  };
}

function number(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag}: must be a number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}
