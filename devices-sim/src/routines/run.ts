import type { LogLevel } from '../../../hub/src/log.js';
import type { AlertKind } from '../../../hub/src/model/alert.js';
import { DrillClock } from '../drill/drill-clock.js';
import { Fleet } from '../drill/fleet.js';
import { HubClient } from '../drill/hub-client.js';
import { startDrillHub } from '../drill/in-process-hub.js';
import { type Cue, play } from '../drill/player.js';
import { rateLimited } from '../drill/rate-limit.js';
import { parseLocalDateTime } from '../util/local-time.js';
import { Prng } from '../util/prng.js';
import type { Incident } from './incidents.js';
import type { Persona } from './persona.js';
import { type PlannedAction, planRun } from './plan.js';
import { attribute, type RecordedAlert, type Score, score } from './score.js';
import { routineSite } from './site.js';

export interface RoutineOptions {
  residents: number;
  days: number;
  seed: number;
  incidents: boolean;
  /** Local date the run starts on (at midnight), default 2026-11-02 (a Monday). */
  startDate?: string;
  heartbeatMs?: number;
  /** Site-wide rule settings to try instead of the defaults, e.g. { inactivity: { hoursDoorOnly: 36 } }. */
  rules?: Record<string, unknown>;
  logLevel?: LogLevel;
}

export interface RoutineResult {
  options: Required<Omit<RoutineOptions, 'logLevel'>>;
  tz: string;
  start: number;
  end: number;
  personas: Persona[];
  incidents: Incident[];
  alerts: RecordedAlert[];
  score: Score;
  counts: { activity: number; heartbeats: number; instants: number; advances: number };
  /** For each false alert: the home's last resident activity before it and the next after it (epoch ms). */
  falseAlertContext: Record<string, { lastActivity: number | null; nextActivity: number | null }>;
  wallMs: number;
}

const ACTIVITY_ACTIONS = new Set(['open', 'close', 'motion', 'press', 'cancel']);

function activityAround(
  actions: readonly PlannedAction[],
  alert: RecordedAlert,
): { lastActivity: number | null; nextActivity: number | null } {
  let lastActivity: number | null = null;
  let nextActivity: number | null = null;
  for (const a of actions) {
    if (a.homeId !== alert.homeId || !ACTIVITY_ACTIONS.has(a.action)) continue;
    if (a.at <= alert.raisedAtMs) lastActivity = a.at;
    else if (nextActivity === null) nextActivity = a.at;
  }
  return { lastActivity, nextActivity };
}

export const DEFAULT_START_DATE = '2026-11-02';

/**
 * What duty staff do with an alert of the run, at once: they call the resident. A false alarm is
 * resolved there and then; a genuine one is acknowledged and stays open while the incident is
 * handled (beyond the run), so later signs of the same incident merge into it.
 */
function isFalse(alert: RecordedAlert, incidents: readonly Incident[]): boolean {
  return attribute(alert, incidents) === undefined;
}

/**
 * A seeded routine run: generated days of N residents (and incidents when asked) played through
 * real MQTT clients on the drill clock of an in-process hub. Duty staff resolve every alert as soon
 * as it shows, so a repeat of the same condition later counts as a new alert.
 */
export async function runRoutines(o: RoutineOptions): Promise<RoutineResult> {
  const wallStart = Date.now();
  const options = {
    residents: o.residents,
    days: o.days,
    seed: o.seed,
    incidents: o.incidents,
    startDate: o.startDate ?? DEFAULT_START_DATE,
    heartbeatMs: o.heartbeatMs ?? 3600_000,
    rules: o.rules ?? {},
  };
  const rng = new Prng(options.seed);
  const site = await routineSite(options.residents, rng.fork('site'));
  if (Object.keys(options.rules).length > 0) site.raw.rules = options.rules;
  const start = parseLocalDateTime(`${options.startDate} 00:00`, site.tz);
  if (start === undefined) throw new Error(`not a date: ${options.startDate} (YYYY-MM-DD)`);
  const plan = planRun({
    rng: rng.fork('plan'),
    personas: site.personas,
    start,
    days: options.days,
    tz: site.tz,
    incidents: options.incidents,
    heartbeatMs: options.heartbeatMs,
  });

  const hub = await startDrillHub({
    raw: site.raw,
    startMs: start,
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
  });
  const client = new HubClient(hub.httpUrl);
  const alerts: RecordedAlert[] = [];
  let fleet: Fleet | undefined;
  let clock: DrillClock | undefined;
  try {
    await client.login(hub.user, hub.password);
    const drill = new DrillClock(client, start);
    clock = drill;
    const devices = await Fleet.start(hub.config, { url: hub.mqttUrl, now: () => drill.now() });
    fleet = devices;
    const seen = new Set<string>();
    const pickUpAlerts = async () => {
      for (const a of await client.alertsSince(start, 'open')) {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        const rec: RecordedAlert = {
          id: a.id,
          kind: a.kind as AlertKind,
          homeId: a.homeId,
          deviceId: a.deviceId,
          raisedAtMs: Date.parse(a.raisedAt),
        };
        alerts.push(rec);
        if (isFalse(rec, plan.incidents))
          await client.resolve(a.id, 'false_alarm', 'resolved by the routine run');
        else await client.acknowledge(a.id);
      }
    };
    const cues: Cue[] = plan.actions.map((a) => ({
      at: a.at,
      lane: a.homeId,
      run: async () => {
        const actor = devices.actor(a.deviceId);
        if (!actor) throw new Error(`no device ${a.deviceId}`);
        await actor.act(a.action, a.level);
      },
    }));
    const dropped = await rateLimited(client);
    await play(cues, drill, plan.end, { afterAdvance: pickUpAlerts, afterCues: pickUpAlerts });
    const lost = (await rateLimited(client)) - dropped;
    if (lost > 0) throw new Error(`the hub dropped ${lost} messages of the run under its publish rate limit`);
  } finally {
    await fleet?.stop();
    await hub.stop();
  }
  const instants = new Set(plan.actions.map((a) => a.at)).size;
  const scored = score(alerts, plan.incidents, options.residents * options.days);
  const falseAlertContext = Object.fromEntries(
    scored.falseAlerts.map((a) => [a.id, activityAround(plan.actions, a)]),
  );
  return {
    options,
    tz: site.tz,
    start,
    end: plan.end,
    personas: site.personas,
    incidents: plan.incidents,
    alerts,
    score: scored,
    counts: { ...plan.counts, instants, advances: clock?.advances ?? 0 },
    falseAlertContext,
    wallMs: Date.now() - wallStart,
  };
}
