import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile, problemsOf } from '../../hub/src/config/load.js';
import type { HubConfig } from '../../hub/src/config/schema.js';
import { isHubError } from '../../hub/src/errors.js';
import { createLogger, siteTime } from '../../hub/src/log.js';
import { Hub, type HubOptions, type Ports } from '../../hub/src/main.js';
import { packageRoot } from '../../hub/src/package-root.js';
import { type Community, startCommunity } from './community.js';
import { freshDemoData, markDemoData } from './demo-data.js';
import { DEMO_LOOP_SECONDS, DEMO_STEPS, type DemoStep, ScriptPlayer } from './demo-script.js';
import { localMqttUrl } from './hub-address.js';
import type { DeviceCommand } from './sim-device.js';
import { UsageError } from './target.js';

const HEARTBEAT_MS = 60_000;
const DEMO_LOGINS = ['duty1', 'supervisor1'];

export interface DemoOptions {
  /** Default: config/demo.yaml of this package. */
  configFile?: string;
  /** CAREHUB_* overrides (ports, data dir, log level) and CAREHUB_DEMO_SPEED; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Play the script this many times faster (default CAREHUB_DEMO_SPEED, else 1). */
  speed?: number;
  /** Default: 60 s divided by the speed. */
  heartbeatMs?: number;
  /** Where the plain-words narration goes (default stdout). */
  say?: (line: string) => void;
  /** Keep the data of an earlier run (default: CAREHUB_DEMO_KEEP=1, else start from an empty data dir). */
  keep?: boolean;
  hubOptions?: HubOptions;
}

export interface RunningDemo {
  hub: Hub;
  ports: Ports;
  community: Community;
  stop(): Promise<void>;
}

/** Start the hub in-process on the demo configuration, connect every demo device and play the script. */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const env = options.env ?? process.env;
  const say = options.say ?? ((line: string) => process.stdout.write(`${line}\n`));
  const configFile = options.configFile ?? join(packageRoot(), 'config', 'demo.yaml');
  const config = loadConfigFile(configFile, env);
  if (!config.demo) {
    throw new UsageError(`${configFile} is not a demo configuration (demo: true): no device secrets to play`);
  }
  const speed = options.speed ?? demoSpeed(env);
  const heartbeatMs = options.heartbeatMs ?? Math.round(HEARTBEAT_MS / speed);
  const keep = options.keep ?? env.CAREHUB_DEMO_KEEP === '1';
  const tz = config.site.timezone;
  const clock = () => siteTime(Date.now(), tz).slice(11, 19);
  // A demo starts fresh: yesterday's open alerts would otherwise come back and swallow today's SOS.
  const fresh = keep ? undefined : await freshDemoData(config.dataDir, Boolean(env.CAREHUB_DATA_DIR));

  // The narration is the demo's console; the hub's own log stays at warn unless asked for.
  const logger =
    options.hubOptions?.logger ??
    createLogger(env.CAREHUB_LOG_LEVEL ? config.log.level : 'warn', undefined, { timezone: tz });
  const hub = new Hub(config, { ...options.hubOptions, logger });
  let ports: Ports;
  let community: Community;
  try {
    ports = await hub.start();
    markDemoData(config.dataDir);
    community = await startCommunity(config, {
      url: localMqttUrl(config.mqtt.host, ports.mqtt),
      heartbeatMs,
      onCommand: (id, c) => say(`${clock()} ${id} <- hub: ${describeCommand(c)}`),
      onError: (id, err) => say(`${clock()} ${id}: connection problem: ${err.message}`),
    });
  } catch (err) {
    await hub.stop().catch(() => {});
    throw err;
  }

  const steps = DEMO_STEPS.filter((s) => community.devices.has(s.device));
  for (const s of DEMO_STEPS) {
    if (!steps.includes(s)) say(`note: the script's device ${s.device} is not in ${configFile}; skipped`);
  }
  say(banner(config, ports, community, speed, heartbeatMs, dataNote(config.dataDir, fresh)));

  let lastLoop = 1;
  const player = new ScriptPlayer(steps, DEMO_LOOP_SECONDS, speed, (step: DemoStep, loop: number) => {
    if (loop !== lastLoop) {
      lastLoop = loop;
      say(`${clock()} -- the script starts again (round ${loop}) --`);
    }
    say(`${clock()} ${step.say}`);
    community.devices
      .get(step.device)
      ?.send(step.event)
      .catch((err: Error) => say(`${clock()} ${step.device}: could not send ${step.event}: ${err.message}`));
  });
  player.start();

  return {
    hub,
    ports,
    community,
    async stop() {
      player.stop();
      // The community pauses rather than leaves: devices announced offline raise device_offline
      // alerts 5 min later, i.e. at once when the demo is started again after a longer pause.
      await community.stop('quiet');
      await hub.stop();
    },
  };
}

function demoSpeed(env: NodeJS.ProcessEnv): number {
  const text = env.CAREHUB_DEMO_SPEED;
  if (text === undefined || text === '') return 1;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 1000) {
    throw new UsageError(
      `CAREHUB_DEMO_SPEED must be a number above 0 and at most 1000 (2 = twice as fast), got "${text}"`,
    );
  }
  return n;
}

/** One line on where the demo's data is and how to keep it. */
function dataNote(dataDir: string, fresh: { erased: boolean } | undefined): string {
  if (!fresh) return `kept from the last run in ${dataDir} (--keep); npm start alone starts fresh`;
  const what = fresh.erased ? `the last run's data in ${dataDir} was erased` : `${dataDir} was empty`;
  return `started fresh: ${what} (keep it next time: npm start -- --keep)`;
}

function banner(
  config: Readonly<HubConfig>,
  ports: Ports,
  community: Community,
  speed: number,
  heartbeatMs: number,
  data: string,
): string {
  const t = (seconds: number) => `${Math.round(seconds / speed)} s`;
  const logins = DEMO_LOGINS.flatMap((id) => {
    const staff = config.staff.find((s) => s.id === id);
    if (!staff) return [];
    const scope = staff.role === 'duty' ? `grid ${staff.grids.join(', ')}` : 'every home';
    return [`${`${id} / ${id}-demo`.padEnd(34)}(${staff.role}, ${scope})`];
  });
  return [
    '',
    `CareHub demo: ${config.site.name}`,
    'DEMO configuration: every credential below is public. Never use it for real residents.',
    '',
    `  Duty console:  http://localhost:${ports.http}/`,
    ...logins.map((l, i) => `  ${i === 0 ? 'Logins:'.padEnd(15) : ''.padEnd(15)}${l}`),
    `  Devices:       ${community.devices.size} simulated devices on mqtt://localhost:${ports.mqtt}, heartbeat every ${Math.round(heartbeatMs / 1000)} s`,
    ...(community.skipped.length > 0
      ? [`                 not simulated: ${community.skipped.join(', ')}`]
      : []),
    `  Script:        SOS at h1 in ~${t(10)}, smoke test at h2 ~${t(30)} (no alert), smoke at h3 ~${t(45)};`,
    `                 doors and motion in between; starts again every ${t(DEMO_LOOP_SECONDS)}`,
    `  Data:          ${data}`,
    `  Times:         ${config.site.timezone} (the site's time zone), here and in the console`,
    '  Try also:      npx carehub-sim press h2-sos   (in another terminal)',
    '  Ctrl-C stops the demo.',
    '',
  ].join('\n');
}

function describeCommand(c: DeviceCommand): string {
  switch (c.type) {
    case 'alert.received':
      return `alert.received: the hub has the alert (${c.alertId ?? '?'})`;
    case 'alert.acknowledged':
      return `alert.acknowledged by ${c.by || 'staff'}: help is coming (${c.alertId ?? '?'})`;
    case 'alert.resolved':
      return `alert.resolved (${c.alertId ?? '?'})`;
    default:
      return JSON.stringify(c);
  }
}

export const DEMO_USAGE = `Usage: npm start [-- --keep]

Runs the hub on config/demo.yaml with a simulated community. Each start begins with an empty
demo data dir (data/demo): no alerts of an earlier run come back.

  --keep        keep the data of the last run (also: CAREHUB_DEMO_KEEP=1)
  -h, --help    this text

Environment: CAREHUB_HTTP_PORT, CAREHUB_MQTT_PORT (0 = any free port), CAREHUB_DATA_DIR,
CAREHUB_LOG_LEVEL, CAREHUB_DEMO_SPEED (2 = twice as fast).
`;

/** `npm start`: run until Ctrl-C (or SIGTERM), then stop devices and hub cleanly. */
export async function main(argv: string[] = []): Promise<number> {
  let keep: boolean | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(DEMO_USAGE);
      return 0;
    }
    keep = values.keep ? true : undefined;
  } catch (err) {
    process.stderr.write(`carehub demo: ${(err as Error).message}\n\n${DEMO_USAGE}`);
    return 1;
  }
  let demo: RunningDemo;
  try {
    demo = await startDemo(keep ? { keep } : {});
  } catch (err) {
    const problems = problemsOf(err).map((p) => `\n  ${p.path}: ${p.message}`);
    const code = isHubError(err) ? `${err.code}: ` : '';
    const hint = /EADDRINUSE|LISTEN/.test(`${code}${(err as Error).message}`)
      ? '\n(a port is taken: set CAREHUB_MQTT_PORT and CAREHUB_HTTP_PORT, 0 = any free port)'
      : '';
    process.stderr.write(
      `carehub demo: could not start: ${code}${(err as Error).message}${problems.join('')}${hint}\n`,
    );
    return 1;
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const clock = () => siteTime(Date.now(), demo.hub.config.site.timezone).slice(11, 19);
  process.stdout.write(`\n${clock()} ${signal}: stopping the demo devices and the hub...\n`);
  await demo.stop();
  process.stdout.write(`${clock()} demo stopped.\n`);
  return 0;
}
