import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliIo, main } from '../../devices-sim/src/cli.js';
import { planRun } from '../../devices-sim/src/routines/plan.js';
import { routineSite } from '../../devices-sim/src/routines/site.js';
import { parseLocalDateTime } from '../../devices-sim/src/util/local-time.js';
import { Prng } from '../../devices-sim/src/util/prng.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HOUR = 3600_000;

interface RoutineJson {
  residentDays: number;
  counts: { activity: number; heartbeats: number };
  rules: Array<{
    kind: string;
    alerts: number;
    false: number;
    falsePerResidentDay: number;
    incidents: number;
    detected: number;
    delayMs: { median: number | null; max: number | null };
  }>;
  falseAlerts: Array<{ kind: string; homeId: string; raisedAt: string; lastActivity: string | null }>;
  falsePerResidentDay: number;
  goal: { met: boolean };
  incidents: Array<{ type: string; home: string; kind: string; delayMs: number | null }>;
  allDetected: boolean;
}

async function routines(argv: string[]): Promise<{ code: number; json: RoutineJson; text: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env: {}, cwd: ROOT };
  const code = await main(['routines', ...argv, '--json'], io);
  expect(err).toBe('');
  return { code, json: JSON.parse(out) as RoutineJson, text: out };
}

describe('routine generator', () => {
  it('is seeded: the same seed plays the same days, another seed other days', async () => {
    const plan = async (seed: number) => {
      const rng = new Prng(seed);
      const site = await routineSite(4, rng.fork('site'));
      const start = parseLocalDateTime('2026-11-02 00:00', site.tz) ?? 0;
      return planRun({
        rng: rng.fork('plan'),
        personas: site.personas,
        start,
        days: 2,
        tz: site.tz,
        incidents: true,
        heartbeatMs: HOUR,
      });
    };
    const a = await plan(7);
    expect(await plan(7)).toEqual(a);
    expect((await plan(8)).actions).not.toEqual(a.actions);
    // Realistic days: every resident wakes, goes out or uses the door, and moves about.
    for (const home of ['h1', 'h3', 'h4']) {
      const motion = a.actions.filter((x) => x.homeId === home && x.action === 'motion');
      expect(motion.length).toBeGreaterThan(20);
    }
    const doorOnly = a.actions.filter((x) => x.homeId === 'h2');
    expect(doorOnly.some((x) => x.action === 'motion')).toBe(false);
    expect(a.incidents.map((i) => i.type).sort()).toEqual(['fall', 'fire', 'sos', 'wandering']);
  });
});

describe('carehub-sim routines', () => {
  it('30 resident-days without incidents: false alerts per rule, at most 1 in total (the care-quality goal)', async () => {
    const { code, json } = await routines(['--residents', '10', '--days', '3', '--seed', '1']);
    expect(json.residentDays).toBe(30);
    // Really played: about 45 activity events per resident-day and hourly heartbeats of every device.
    expect(json.counts.activity).toBeGreaterThan(30 * 30);
    expect(json.counts.heartbeats).toBe((10 * 3 + 7) * 72);
    expect(json.rules.map((r) => r.kind)).toEqual([
      'sos',
      'smoke',
      'night_exit',
      'door_left_open',
      'inactivity',
      'device_offline',
      'battery_low',
      'tamper',
    ]);
    const perRule = Object.fromEntries(json.rules.map((r) => [r.kind, r.false]));
    // With healthy heartbeats, no device alert; without incidents, no SOS, smoke or night exit.
    expect(perRule).toMatchObject({
      sos: 0,
      smoke: 0,
      night_exit: 0,
      device_offline: 0,
      battery_low: 0,
      tamper: 0,
    });
    const total = json.rules.reduce((n, r) => n + r.false, 0);
    expect(json.falseAlerts).toHaveLength(total);
    expect(json.falsePerResidentDay).toBeCloseTo(total / 30);
    // The care-quality goal: at most one false alert per 30 resident-days.
    expect(total).toBeLessThanOrEqual(1);
    expect(json.goal.met).toBe(true);
    expect(code).toBe(0);
  }, 90_000);

  it('injected incidents (fall, fire, night wandering, SOS, battery death) are all detected, with delays', async () => {
    const { code, json, text } = await routines([
      '--residents',
      '5',
      '--days',
      '3',
      '--seed',
      '1',
      '--incidents',
    ]);
    expect(json.incidents.map((i) => i.type).sort()).toEqual([
      'battery',
      'battery',
      'fall',
      'fire',
      'sos',
      'wandering',
    ]);
    expect(json.incidents.filter((i) => i.delayMs === null)).toEqual([]);
    expect(json.allDetected).toBe(true);
    const delay = (kind: string) => json.incidents.find((i) => i.kind === kind)?.delayMs ?? Number.NaN;
    expect(delay('sos')).toBe(0);
    expect(delay('smoke')).toBe(0);
    expect(delay('battery_low')).toBe(0);
    // Dead SOS/smoke device: its 2-hour supervision.
    expect(delay('device_offline')).toBe(2 * HOUR);
    // Night exit: at once for a resident at wandering risk, 30 minutes of stillness otherwise.
    expect(delay('night_exit')).toBeLessThanOrEqual(31 * 60_000);
    // A fall: 12 h without activity with a motion sensor, 24 h after the last door use in a door-only home.
    expect(delay('inactivity')).toBeGreaterThan(0);
    expect(delay('inactivity')).toBeLessThanOrEqual(24 * HOUR);
    const rule = (kind: string) => json.rules.find((r) => r.kind === kind);
    expect(rule('sos')).toMatchObject({ incidents: 1, detected: 1 });
    expect(rule('device_offline')).toMatchObject({ incidents: 1, detected: 1, false: 0 });
    expect(text).toContain('"allDetected": true');
    expect(code).toBe(json.goal.met ? 0 : 1);
  }, 90_000);

  it('checks its options', async () => {
    let err = '';
    const io: CliIo = { out: () => {}, err: (t) => (err += t), env: {}, cwd: ROOT };
    expect(await main(['routines', '--residents', '0'], io)).toBe(1);
    expect(err).toContain('--residents: must be at least 1');
    err = '';
    expect(await main(['routines', '--days', '1', '--incidents'], io)).toBe(1);
    expect(err).toContain('--days: incidents need at least 2 days');
  });
});
