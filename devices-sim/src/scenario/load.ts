import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig, problemsOf } from '../../../hub/src/config/load.js';
import { problemsFromIssues } from '../../../hub/src/config/problems.js';
import type { HubConfig } from '../../../hub/src/config/schema.js';
import { actionProblem } from '../drill/actions.js';
import { parseLocalDateTime } from '../util/local-time.js';
import { type ExpectationInput, type ScenarioInput, type StepInput, scenarioSchema } from './schema.js';
import { type Problem, resolveTimeline, type Timing } from './timeline.js';

/** A scenario that cannot be played: every problem, by path. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
  }
}

export interface Expectation extends Omit<ExpectationInput, 'none'> {
  kind: NonNullable<ExpectationInput['kind']>;
  home: string;
}

export interface Scenario {
  file: string;
  name: string;
  description: string | undefined;
  /** The site configuration as written (to start an in-process hub from). */
  rawConfig: Record<string, unknown>;
  config: Readonly<HubConfig>;
  /** Where the configuration came from: a file path, or "inline". */
  configSource: string;
  /** The site's zone: `start` and `at` times are local times there. */
  tz: string;
  /** Epoch ms of `start`, when given. */
  start: number | undefined;
  heartbeatMs: number | undefined;
  steps: StepInput[];
  end: Timing | undefined;
  /** Empty for a normal day (`none: true`). */
  expect: Expectation[];
}

function readYaml(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      `${what} ${file} is not valid YAML`,
      doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(yaml)',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return doc.toJS();
}

/** Read and check a scenario file: its schema, its site configuration, and every step against that site. */
export function loadScenario(file: string): Scenario {
  const raw = readYaml(file, 'scenario');
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ScenarioError(
      `scenario ${file} has problems`,
      problemsFromIssues(parsed.error.issues, raw, scenarioSchema),
    );
  }
  const input = parsed.data;
  const { rawConfig, config, configSource, prefix } = siteOf(input, file);
  const tz = config.site.timezone;
  const problems: Problem[] = [];
  const start = input.start === undefined ? undefined : parseLocalDateTime(input.start, tz);
  if (input.start !== undefined && start === undefined) {
    problems.push({ path: 'start', message: `"${input.start}" is not a date-time that exists in ${tz}` });
  }
  problems.push(
    ...checkDemoSecrets(config, prefix),
    ...checkSteps(input.timeline, config),
    ...checkExpectations(input, config),
  );
  problems.push(...resolveTimeline(input.timeline, start ?? Date.now(), tz).problems);
  if (problems.length > 0) throw new ScenarioError(`scenario ${file} has problems`, problems);
  const expect = input.expect.filter((e): e is Expectation => e.none !== true);
  return {
    file,
    name: input.name ?? file,
    description: input.description,
    rawConfig,
    config,
    configSource,
    tz,
    start,
    heartbeatMs: input.heartbeats,
    steps: input.timeline,
    end: input.end,
    expect,
  };
}

function siteOf(
  input: ScenarioInput,
  file: string,
): { rawConfig: Record<string, unknown>; config: Readonly<HubConfig>; configSource: string; prefix: string } {
  let rawConfig: unknown;
  let configSource: string;
  let prefix: string;
  if (typeof input.config === 'string') {
    configSource = resolve(dirname(file), input.config);
    rawConfig = readYaml(configSource, 'site configuration');
    prefix = `config (${input.config}): `;
  } else {
    configSource = 'inline';
    rawConfig = input.config;
    prefix = 'config.';
  }
  if (!rawConfig || typeof rawConfig !== 'object' || Array.isArray(rawConfig)) {
    throw new ScenarioError(`scenario ${file}: the site configuration is not a mapping`, [
      { path: 'config', message: 'must be a site configuration (a mapping with site, homes, staff)' },
    ]);
  }
  try {
    const config = parseConfig(rawConfig, {});
    return { rawConfig: rawConfig as Record<string, unknown>, config, configSource, prefix };
  } catch (err) {
    const problems = problemsOf(err);
    if (problems.length === 0) throw err;
    throw new ScenarioError(
      `scenario ${file}: the site configuration has problems`,
      problems.map((p) => ({ path: `${prefix}${p.path}`, message: p.message })),
    );
  }
}

function checkDemoSecrets(config: Readonly<HubConfig>, prefix: string): Problem[] {
  const out: Problem[] = [];
  config.homes.forEach((home, hi) => {
    home.devices.forEach((d, di) => {
      // Devices behind a Zigbee2MQTT gateway speak through the gateway's account.
      if (d.demoSecret === undefined && d.zigbee === undefined) {
        out.push({
          path: `${prefix}homes[${hi}].devices[${di}].demoSecret`,
          message: `device ${d.id} needs a demoSecret: drills play every device of a demo configuration`,
        });
      }
    });
  });
  return out;
}

function checkSteps(steps: readonly StepInput[], config: Readonly<HubConfig>): Problem[] {
  const out: Problem[] = [];
  const devices = new Map(config.homes.flatMap((h) => h.devices.map((d) => [d.id, d] as const)));
  const homes = new Set(config.homes.map((h) => h.id));
  const ids = new Set<string>();
  steps.forEach((s, i) => {
    if (s.id !== undefined) {
      if (ids.has(s.id)) out.push({ path: `timeline[${i}].id`, message: `step id "${s.id}" is used twice` });
      ids.add(s.id);
    }
    if (s.device !== undefined) {
      const d = devices.get(s.device);
      if (!d) {
        out.push({
          path: `timeline[${i}].device`,
          message: `no device "${s.device}" in the configuration (${list(devices.keys())})`,
        });
      } else if (s.action !== undefined) {
        const problem = actionProblem(s.action, d.kind, d.zigbee !== undefined);
        if (problem) out.push({ path: `timeline[${i}].action`, message: `${s.device}: ${problem}` });
      }
    }
    if (s.home !== undefined && !homes.has(s.home)) {
      out.push({
        path: `timeline[${i}].home`,
        message: `no home "${s.home}" in the configuration (${list(homes)})`,
      });
    }
  });
  return out;
}

function checkExpectations(input: ScenarioInput, config: Readonly<HubConfig>): Problem[] {
  const out: Problem[] = [];
  const stepIds = new Set(input.timeline.flatMap((s) => (s.id === undefined ? [] : [s.id])));
  const homes = new Map(config.homes.map((h) => [h.id, h] as const));
  const none = input.expect.findIndex((e) => e.none === true);
  if (none >= 0 && input.expect.length > 1) {
    out.push({
      path: `expect[${none}].none`,
      message: 'none: true means no alert at all: it must be the only expectation',
    });
  }
  input.expect.forEach((e, i) => {
    if (e.home !== undefined && !homes.has(e.home)) {
      out.push({
        path: `expect[${i}].home`,
        message: `no home "${e.home}" in the configuration (${list(homes.keys())})`,
      });
    }
    if (e.device !== undefined && e.home !== undefined) {
      const home = homes.get(e.home);
      if (home && !home.devices.some((d) => d.id === e.device)) {
        out.push({ path: `expect[${i}].device`, message: `home ${e.home} has no device "${e.device}"` });
      }
    }
    if (e.cause !== undefined && !stepIds.has(e.cause)) {
      out.push({
        path: `expect[${i}].cause`,
        message: `no step with id "${e.cause}" (give the step that should cause it an id)`,
      });
    }
  });
  return out;
}

function list(values: Iterable<string>): string {
  const all = [...values];
  return all.length > 10 ? `${all.slice(0, 10).join(', ')}, …` : all.join(', ');
}
