import type { LogLevel } from '../../../hub/src/log.js';
import type { AlertKind } from '../../../hub/src/model/alert.js';
import { DrillClock } from '../drill/drill-clock.js';
import { Fleet } from '../drill/fleet.js';
import { type CheckinReport, HubClient } from '../drill/hub-client.js';
import { startDrillHub } from '../drill/in-process-hub.js';
import { Player } from '../drill/player.js';
import { rateLimited } from '../drill/rate-limit.js';
import type { DeviceCommand } from '../sim-device.js';
import { parseLocalDateTime } from '../util/local-time.js';
import { Prng } from '../util/prng.js';
import { type AnswerWhy, residentAnswer } from './answers.js';
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
  /** Every resident falls once in the last quarter of the run (by day; at night in some homes with a motion sensor). */
  falls?: boolean;
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
  /** Every check-in request the residents' SOS buttons heard, and what the resident did. */
  prompts: PromptLog[];
  /** The hub's own count of its prompts (GET /api/v1/reports/checkins over the run). */
  checkins: CheckinReport;
  wallMs: number;
}

export interface PromptLog {
  homeId: string;
  requestId: string;
  at: number;
  answerBy: number;
  why: AnswerWhy;
  asleep: boolean;
  /** When the resident pressed "I am OK" (drill time), or null. */
  answeredAt: number | null;
}

/**
 * The drill clock never jumps more than this, so a resident can answer a check-in request within
 * the hub's wait (at least 15 minutes): answers come at most 12 minutes after the request.
 */
const MAX_STEP_MS = 10 * 60_000;

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

const zeroCheckins = () => ({ sent: 0, daily: 0, answered: 0, activity: 0, missed: 0, capped: 0 });

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
    falls: o.falls ?? false,
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
    falls: options.falls,
    heartbeatMs: options.heartbeatMs,
  });

  const hub = await startDrillHub({
    raw: site.raw,
    startMs: start,
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
  });
  const client = new HubClient(hub.httpUrl);
  const alerts: RecordedAlert[] = [];
  const prompts: PromptLog[] = [];
  let checkins: CheckinReport | undefined;
  let fleet: Fleet | undefined;
  let clock: DrillClock | undefined;
  try {
    await client.login(hub.user, hub.password);
    const drill = new DrillClock(client, start);
    clock = drill;
    let player: Player | undefined;
    const personas = new Map(site.personas.map((p) => [p.devices.sos, p]));
    const answers = rng.fork('answers');
    const heard = new Set<string>();
    // A resident hears the SOS button beep (a check-in request) and answers, or not, like a person.
    const onCommand = (deviceId: string, command: DeviceCommand) => {
      const p = personas.get(deviceId);
      const requestId = typeof command.requestId === 'string' ? command.requestId : undefined;
      if (command.type !== 'checkin.request' || !p || !requestId || heard.has(`${p.homeId}:${requestId}`))
        return;
      heard.add(`${p.homeId}:${requestId}`);
      const at = Date.parse(String(command.at));
      const presence = plan.presence[p.homeId] ?? { out: [], asleep: [] };
      const answer = residentAnswer(answers.fork(`${p.homeId}:${requestId}`), p, presence, at);
      const log: PromptLog = {
        homeId: p.homeId,
        requestId,
        at,
        answerBy: Date.parse(String(command.answerBy)),
        why: answer.why,
        asleep: answer.asleep,
        answeredAt: null,
      };
      prompts.push(log);
      if (answer.at === null) return;
      player?.add({
        at: answer.at,
        lane: p.homeId,
        run: async () => {
          const actor = fleet?.actor(deviceId);
          // A button whose battery died cannot be pressed.
          if (!actor?.alive) return;
          log.answeredAt = drill.now();
          await actor.act('checkin');
        },
      });
    };
    const devices = await Fleet.start(hub.config, { url: hub.mqttUrl, now: () => drill.now(), onCommand });
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
    player = new Player(
      drill,
      plan.end,
      { afterAdvance: pickUpAlerts, afterCues: pickUpAlerts },
      { maxStepMs: MAX_STEP_MS },
    );
    for (const a of plan.actions)
      player.add({
        at: a.at,
        lane: a.homeId,
        run: async () => {
          const actor = devices.actor(a.deviceId);
          if (!actor) throw new Error(`no device ${a.deviceId}`);
          await actor.act(a.action, a.level);
        },
      });
    const dropped = await rateLimited(client);
    await player.run();
    const lost = (await rateLimited(client)) - dropped;
    if (lost > 0) throw new Error(`the hub dropped ${lost} messages of the run under its publish rate limit`);
    checkins = await client.checkinReport(start, plan.end);
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
    prompts,
    checkins: checkins ?? { from: '', to: '', homes: [], total: zeroCheckins() },
    wallMs: Date.now() - wallStart,
  };
}
