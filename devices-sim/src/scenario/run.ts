import type { LogLevel } from '../../../hub/src/log.js';
import { DrillClock } from '../drill/drill-clock.js';
import { Fleet } from '../drill/fleet.js';
import { HubApiError, HubClient } from '../drill/hub-client.js';
import { type DrillHub, startDrillHub } from '../drill/in-process-hub.js';
import { type Cue, play } from '../drill/player.js';
import { rateLimited } from '../drill/rate-limit.js';
import { formatDuration } from '../util/duration.js';
import { metricSum } from '../util/prometheus.js';
import { type Expectation, type Scenario, ScenarioError } from './load.js';
import type { StepInput } from './schema.js';
import { resolveTimeline, resolveTiming } from './timeline.js';
import { judge, observed, type Verdict } from './verdict.js';

export type HubTarget =
  | { kind: 'in-process'; logLevel?: LogLevel }
  | { kind: 'running'; httpUrl: string; mqttUrl: string; user: string; password: string };

export interface StepRecord {
  index: number;
  at: number;
  what: string;
  error?: string;
}

export interface ScenarioResult {
  ok: boolean;
  name: string;
  file: string;
  /** "in-process" or the running hub's HTTP address. */
  hub: string;
  tz: string;
  start: number;
  end: number;
  steps: StepRecord[];
  heartbeatRounds: number;
  verdict: Verdict;
  /** Why the play stopped early (a step that could not be played). */
  error?: string;
  wallMs: number;
}

const DEFAULT_TAIL_MS = 10 * 60_000;
const OFFLINE_CONFIRM_MS = 5000;

export function describeStep(s: StepInput): string {
  if (s.device !== undefined) return `${s.device} ${s.action}${s.level === undefined ? '' : ` ${s.level}%`}`;
  if (s.mode !== undefined)
    return `${s.home} mode ${s.mode}${s.for === undefined ? '' : ` for ${formatDuration(s.for)}`}`;
  return 'time passes';
}

/**
 * Plays a scenario: against an in-process hub started from its configuration on the manual clock
 * (self-contained), or against a running hub in manual clock mode. Real MQTT clients act as the
 * devices; the drill clock is moved over HTTP; the alerts raised are judged against `expect`.
 */
export async function runScenario(
  scenario: Scenario,
  target: HubTarget,
  onStep: (record: StepRecord) => void = () => {},
): Promise<ScenarioResult> {
  const wallStart = Date.now();
  let drillHub: DrillHub | undefined;
  let client: HubClient;
  let mqttUrl: string;
  let clock: DrillClock;
  if (target.kind === 'in-process') {
    const startMs = scenario.start ?? Math.floor(Date.now() / 60_000) * 60_000;
    drillHub = await startDrillHub({
      raw: scenario.rawConfig,
      startMs,
      ...(target.logLevel ? { logLevel: target.logLevel } : {}),
    });
    client = new HubClient(drillHub.httpUrl);
    await client.login(drillHub.user, drillHub.password);
    mqttUrl = drillHub.mqttUrl;
    clock = new DrillClock(client, startMs);
  } else {
    client = new HubClient(target.httpUrl);
    await client.login(target.user, target.password);
    clock = await drillClockOf(client, target.httpUrl);
    if (scenario.start !== undefined) {
      if (scenario.start < clock.now()) {
        throw new ScenarioError(
          `the hub's drill clock (${new Date(clock.now()).toISOString()}) is already past the scenario's start: restart the hub, or remove start to play from the hub's time`,
        );
      }
      await clock.advanceTo(scenario.start);
    }
    mqttUrl = target.mqttUrl;
  }
  const start = clock.now();
  const { times } = resolveTimeline(scenario.steps, start, scenario.tz);
  const stepAt = new Map(
    scenario.steps.flatMap((s, i) => (s.id === undefined ? [] : [[s.id, times[i] ?? start] as const])),
  );
  const anchorOf = (e: Expectation) => (e.cause === undefined ? start : (stepAt.get(e.cause) ?? start));
  const end = endOf(scenario, times, start, anchorOf);

  const steps: StepRecord[] = [];
  let heartbeatRounds = 0;
  let error: string | undefined;
  let fleet: Fleet | undefined;
  try {
    fleet = await Fleet.start(scenario.config, {
      url: mqttUrl,
      now: () => clock.now(),
      confirmOffline: (deviceId, homeId) => confirmOffline(client, deviceId, homeId),
    });
    const devices = fleet;
    const cues: Cue[] = scenario.steps.map((s, index) => ({
      at: times[index] ?? start,
      run: async () => {
        const record: StepRecord = { index, at: clock.now(), what: describeStep(s) };
        steps.push(record);
        try {
          await playStep(s, devices, client, clock);
        } catch (err) {
          record.error = (err as Error).message;
          throw new StepFailed(`step ${index + 1} (${record.what}): ${record.error}`);
        } finally {
          onStep(record);
        }
      },
    }));
    if (scenario.heartbeatMs !== undefined) {
      for (let t = start + scenario.heartbeatMs; t <= end; t += scenario.heartbeatMs) {
        cues.push({
          at: t,
          lane: 'heartbeats',
          run: async () => {
            heartbeatRounds++;
            await devices.heartbeatAll();
          },
        });
      }
    }
    const dropped = await rateLimited(client);
    await play(cues, clock, end);
    const lost = (await rateLimited(client)) - dropped;
    if (lost > 0) {
      throw new Error(
        `the hub dropped ${lost} messages of the drill under its publish rate limit: play drills against a hub with mqtt.limits.publishPerSecond: 0`,
      );
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  let verdict: Verdict;
  try {
    const alerts = (await client.alertsSince(start)).map(observed);
    verdict = judge(scenario.expect, alerts, anchorOf, end);
    if (error !== undefined) verdict.ok = false;
  } finally {
    await fleet?.stop();
    await drillHub?.stop();
  }
  return {
    ok: verdict.ok && error === undefined,
    name: scenario.name,
    file: scenario.file,
    hub: target.kind === 'in-process' ? 'in-process' : target.httpUrl,
    tz: scenario.tz,
    start,
    end,
    steps,
    heartbeatRounds,
    verdict,
    ...(error === undefined ? {} : { error }),
    wallMs: Date.now() - wallStart,
  };
}

class StepFailed extends Error {}

async function drillClockOf(client: HubClient, url: string): Promise<DrillClock> {
  try {
    return await DrillClock.of(client);
  } catch (err) {
    if (err instanceof HubApiError && (err.status === 404 || err.code === 'HUB_ERR_CLOCK_NOT_MANUAL')) {
      throw new ScenarioError(
        `the hub at ${url} has no drill clock: start it with clock: manual (or CAREHUB_CLOCK=manual)`,
      );
    }
    throw err;
  }
}

/** Default end: 10 minutes after the last step, and late enough for every expectation's window. */
function endOf(
  scenario: Scenario,
  times: readonly number[],
  start: number,
  anchorOf: (e: Expectation) => number,
): number {
  const last = times.length > 0 ? Math.max(...times) : start;
  if (scenario.end) {
    const r = resolveTiming(scenario.end, last, scenario.tz);
    if ('problem' in r) throw new ScenarioError(`end: ${r.problem}`);
    return r.at;
  }
  const windows = scenario.expect.flatMap((e) => (e.within === undefined ? [] : [anchorOf(e) + e.within]));
  return Math.max(last + DEFAULT_TAIL_MS, ...windows);
}

/** Counters that prove the hub dealt with a malformed or duplicate delivery as it must. */
const CHECKED: Partial<Record<string, { metric: string; what: string }>> = {
  malformed: { metric: 'carehub_ingest_rejected_total', what: 'reject the malformed payload' },
  duplicate: { metric: 'carehub_ingest_duplicates_total', what: 'drop the duplicate' },
};

async function playStep(s: StepInput, fleet: Fleet, client: HubClient, clock: DrillClock): Promise<void> {
  if (s.device !== undefined && s.action !== undefined) {
    const actor = fleet.actor(s.device);
    if (!actor) throw new Error(`no device ${s.device}`);
    const check = CHECKED[s.action];
    const before = check ? metricSum(await client.metrics(), check.metric) : 0;
    await actor.act(s.action, s.level);
    if (check && metricSum(await client.metrics(), check.metric) <= before) {
      throw new Error(`the hub did not ${check.what} (${check.metric} did not rise)`);
    }
    return;
  }
  if (s.mode !== undefined && s.home !== undefined) {
    const until = s.for === undefined ? undefined : new Date(clock.now() + s.for).toISOString();
    await client.setMode(s.home, s.mode, until);
  }
}

/** Wait until the hub has processed a device's Last Will (it shows the device offline). */
async function confirmOffline(client: HubClient, deviceId: string, homeId: string): Promise<void> {
  const deadline = Date.now() + OFFLINE_CONFIRM_MS;
  for (;;) {
    const home = await client.home(homeId);
    if (home.devices.find((d) => d.id === deviceId)?.online === false) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the hub did not take ${deviceId} for offline within ${OFFLINE_CONFIRM_MS / 1000} s of its Last Will`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
