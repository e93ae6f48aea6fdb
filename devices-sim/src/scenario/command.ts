import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '../../../hub/src/log.js';
import type { CliIo } from '../cli-io.js';
import { HubApiError } from '../drill/hub-client.js';
import { UsageError } from '../target.js';
import { loadScenario, ScenarioError } from './load.js';
import { formatScenarioResult, scenarioResultJson } from './report.js';
import { type HubTarget, runScenario } from './run.js';

export const SCENARIO_USAGE = `Usage: carehub-sim scenario FILE [options]

Plays a scenario drill (YAML: site configuration, start, timeline, expected alerts) and prints
expected vs observed alerts. Exit 0 only when every expected alert was raised in its window and no
other alert was raised.

Without --hub-http/--hub-mqtt the drill is self-contained: an in-process hub from the scenario's
configuration (temporary data dir, free ports, manual clock starting at the scenario's start).

Options:
  --hub-http URL      play against a running hub in manual clock mode (with --hub-mqtt)
  --hub-mqtt URL      that hub's MQTT address
  --user NAME         supervisor or admin login on the running hub (default supervisor1)
  --password TEXT     its password (default supervisor1-demo, the demo's)
  --json              print a machine-readable result
  --verbose           list every step played
  --log-level LEVEL   the in-process hub's log level (default silent)
  -h, --help          this text

Example:
  carehub-sim scenario devices-sim/scenarios/kitchen-fire.yaml
`;

const OPTIONS = {
  'hub-http': { type: 'string' },
  'hub-mqtt': { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function scenarioCommand(argv: string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    io.err(`carehub-sim scenario: ${(err as Error).message}\n\n${SCENARIO_USAGE}`);
    return 1;
  }
  if (values.help) {
    io.out(SCENARIO_USAGE);
    return 0;
  }
  const [file, ...extra] = positionals;
  try {
    if (!file)
      throw new UsageError(
        'give the scenario file, e.g. carehub-sim scenario devices-sim/scenarios/demo-day.yaml',
      );
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const target = targetOf(values);
    const scenario = loadScenario(resolve(io.cwd, file));
    scenario.file = shownPath(io.cwd, scenario.file);
    const result = await runScenario(scenario, target);
    io.out(
      values.json
        ? `${JSON.stringify(scenarioResultJson(result), null, 2)}\n`
        : formatScenarioResult(result, values.verbose),
    );
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof ScenarioError) {
      io.err(
        `carehub-sim scenario: ${err.message}\n${err.problems.map((p) => `  ${p.path}: ${p.message}\n`).join('')}`,
      );
      if (values.json)
        io.out(`${JSON.stringify({ ok: false, error: err.message, problems: err.problems }, null, 2)}\n`);
      return 1;
    }
    if (err instanceof UsageError || err instanceof HubApiError) {
      io.err(`carehub-sim scenario: ${err.message}\n`);
      if (values.json) io.out(`${JSON.stringify({ ok: false, error: err.message }, null, 2)}\n`);
      return 1;
    }
    throw err;
  }
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shownPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

function targetOf(values: ReturnType<typeof parse>['values']): HubTarget {
  const http = values['hub-http'];
  const mqtt = values['hub-mqtt'];
  const level = values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level: one of ${LOG_LEVELS.join(', ')}`);
  }
  if (http === undefined && mqtt === undefined) {
    if (values.user !== undefined || values.password !== undefined) {
      throw new UsageError('--user and --password are for a running hub (--hub-http, --hub-mqtt)');
    }
    return { kind: 'in-process', ...(level ? { logLevel: level as LogLevel } : {}) };
  }
  if (http === undefined || mqtt === undefined)
    throw new UsageError('give both --hub-http and --hub-mqtt for a running hub');
  checkUrl('--hub-http', http, ['http:', 'https:']);
  checkUrl('--hub-mqtt', mqtt, ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:']);
  return {
    kind: 'running',
    httpUrl: http.replace(/\/+$/, ''),
    mqttUrl: mqtt,
    user: values.user ?? 'supervisor1',
    password: values.password ?? 'supervisor1-demo',
  };
}

export function checkUrl(flag: string, text: string, protocols: readonly string[]): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag}: not a URL: "${text}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${flag}: use a ${protocols.map((p) => `${p}//`).join(' or ')} URL, not "${text}"`);
  }
}
