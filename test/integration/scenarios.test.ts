import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliIo, main } from '../../devices-sim/src/cli.js';
import { demoRaw, startHub, type TestHub, tempDir } from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LIBRARY = join(ROOT, 'devices-sim', 'scenarios');

interface JsonResult {
  ok: boolean;
  expectations: Array<{
    expect: { kind: string; home: string };
    status: string;
    delayMs: number | null;
    alert: { occurrences: number } | null;
  }>;
  unexpected: Array<{ kind: string; homeId: string }>;
  steps: Array<{ what: string; error?: string }>;
  error?: string;
  problems?: Array<{ path: string; message: string }>;
}

/** `carehub-sim …` through the CLI's own entry point, in this process, output captured. */
async function sim(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAREHUB_')));
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env, cwd: ROOT };
  const code = await main(argv, io);
  return { code, out, err };
}

async function scenarioJson(
  file: string,
  extra: string[] = [],
): Promise<{ code: number; result: JsonResult; err: string }> {
  const r = await sim(['scenario', file, '--json', ...extra]);
  return { code: r.code, result: JSON.parse(r.out) as JsonResult, err: r.err };
}

describe('the scenario library (devices-sim/scenarios), each played self-contained through carehub-sim scenario', () => {
  it('holds the drills of issue 7', () => {
    expect(readdirSync(LIBRARY).sort()).toEqual([
      'accidental-sos-cancelled.yaml',
      'away-for-a-weekend.yaml',
      'battery-death.yaml',
      'dementia-night-exit.yaml',
      'demo-day.yaml',
      'duplicate-deliveries.yaml',
      'fall-at-home.yaml',
      'gateway-offline.yaml',
      'kitchen-fire.yaml',
    ]);
  });

  // What each drill must observe, beyond its own expect list: the kinds, in order of the list.
  const cases: Array<[string, string[]]> = [
    ['demo-day.yaml', []],
    ['kitchen-fire.yaml', ['smoke h3']],
    ['fall-at-home.yaml', ['inactivity h3']],
    ['dementia-night-exit.yaml', ['night_exit h1', 'night_exit h3']],
    ['accidental-sos-cancelled.yaml', ['sos h2']],
    ['battery-death.yaml', ['battery_low h2', 'device_offline h2']],
    [
      'gateway-offline.yaml',
      ['device_offline z1', 'device_offline z1', 'device_offline z1', 'device_offline z1'],
    ],
    ['duplicate-deliveries.yaml', ['sos h1', 'smoke h3']],
    ['away-for-a-weekend.yaml', ['sos h3']],
  ];
  for (const [file, kinds] of cases) {
    it(`${file}: every expected alert in its window, and no other`, async () => {
      const { code, result, err } = await scenarioJson(join('devices-sim', 'scenarios', file));
      expect(err).toBe('');
      expect(result.error).toBeUndefined();
      expect(result.steps.filter((s) => s.error)).toEqual([]);
      expect(result.unexpected).toEqual([]);
      expect(result.expectations.map((e) => `${e.expect.kind} ${e.expect.home}`)).toEqual(kinds);
      expect(result.expectations.every((e) => e.status === 'matched')).toBe(true);
      expect(result.ok).toBe(true);
      expect(code).toBe(0);
    });
  }

  it('duplicate-deliveries: one SOS alert with 2 occurrences (4 deliveries), one smoke alert with 1 (3 deliveries)', async () => {
    const { result } = await scenarioJson('devices-sim/scenarios/duplicate-deliveries.yaml');
    expect(result.expectations.map((e) => e.alert?.occurrences)).toEqual([2, 1]);
  });

  it('prints expected vs observed as a table and the verdict', async () => {
    const r = await sim(['scenario', 'devices-sim/scenarios/kitchen-fire.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/expected\s+window\s+observed\s+delay\s+result/);
    expect(r.out).toMatch(
      /smoke h3 \(h3-smoke\) ×1\s+≤ 1m after fire\s+smoke h3 \(h3-smoke\) at 18:32 ×1\s+0s\s+ok/,
    );
    expect(r.out).toContain('Unexpected alerts: none');
    expect(r.out).toContain('PASS: 1/1 expected alerts matched, 0 unexpected');
  });
});

describe('carehub-sim scenario: verdicts and errors', () => {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, doc: unknown) => {
    dir ??= tempDir('carehub-scenario-');
    const file = join(dir, name);
    writeFileSync(file, typeof doc === 'string' ? doc : stringify(doc));
    return file;
  };
  const configPath = join(ROOT, 'config', 'demo.yaml');

  it('an alert nobody expected fails the drill (exit 1): a false alert is a defect', async () => {
    const file = write('unexpected.yaml', {
      config: configPath,
      start: '2026-11-26 10:00',
      timeline: [{ at: '10:30', device: 'h2-sos', action: 'press' }],
      expect: [{ none: true }],
    });
    const { code, result } = await scenarioJson(file);
    expect(code).toBe(1);
    expect(result.ok).toBe(false);
    expect(result.unexpected.map((a) => `${a.kind} ${a.homeId}`)).toEqual(['sos h2']);
    const text = await sim(['scenario', file]);
    expect(text.out).toContain('Unexpected alerts (1), each one a false alert of this drill:');
    expect(text.out).toContain('FAIL: no alert expected, 1 raised');
  });

  it('a missing alert, one outside its window and a wrong occurrence count each fail', async () => {
    const file = write('misses.yaml', {
      config: configPath,
      start: '2026-11-26 10:00',
      timeline: [
        { id: 'press', at: '10:30', device: 'h1-sos', action: 'press' },
        { id: 'smoke', at: '10:40', device: 'h3-smoke', action: 'smoke' },
        { id: 'door', at: '10:50', device: 'h2-door', action: 'open' },
      ],
      end: { after: '20m' },
      expect: [
        { kind: 'sos', home: 'h1', cause: 'press', within: '1m', occurrences: 2 },
        { kind: 'smoke', home: 'h2', cause: 'smoke', within: '1m' },
        { kind: 'door_left_open', home: 'h2', cause: 'door', within: '5m' },
      ],
    });
    const { code, result } = await scenarioJson(file);
    expect(code).toBe(1);
    expect(result.expectations.map((e) => e.status)).toEqual([
      'wrong_occurrences',
      'missing',
      'outside_window',
    ]);
    expect(result.unexpected.map((a) => `${a.kind} ${a.homeId}`)).toEqual(['smoke h3']);
  });

  it('reports every problem of a scenario by path, exit 1, without playing', async () => {
    const file = write('broken.yaml', {
      config: configPath,
      start: '26.11.2026 10:00',
      heartbeats: 'hourly',
      timeline: [
        { at: '10:30', device: 'h2-door', action: 'press' },
        { after: '5m', device: 'h9-sos', action: 'press' },
        { at: '7pm', device: 'h1-sos', action: 'press' },
        { after: '1m', device: 'h1-sos', action: 'battery' },
        { after: '1m', mode: 'asleep', home: 'h1' },
        { after: '1m', device: 'h1-sos', action: 'explode' },
      ],
      expect: [
        { kind: 'sos', home: 'h7', cause: 'nope' },
        { kind: 'fire', home: 'h1' },
      ],
    });
    const r = await sim(['scenario', file]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    for (const line of [
      'start: must be a local date-time "YYYY-MM-DD HH:MM"',
      'heartbeats: not a duration: "hourly"',
      'timeline[2].at: must be a local time "HH:MM" or "YYYY-MM-DD HH:MM"',
      'timeline[3].level: action battery needs a level (0-100)',
      'timeline[4].mode:',
      'timeline[5].action:',
      'expect[1].kind:',
    ]) {
      expect(r.err).toContain(line);
    }
    // Once the schema passes, the steps are checked against the site.
    const file2 = write('wrong-site.yaml', {
      config: configPath,
      timeline: [
        { at: '10:30', device: 'h2-door', action: 'press' },
        { after: '5m', device: 'h9-sos', action: 'press' },
      ],
      expect: [{ kind: 'sos', home: 'h7', cause: 'nope' }],
    });
    const r2 = await sim(['scenario', file2]);
    expect(r2.code).toBe(1);
    expect(r2.err).toContain('timeline[0].action: h2-door: press needs a sos_button, not a door_sensor');
    expect(r2.err).toContain('timeline[1].device: no device "h9-sos" in the configuration');
    expect(r2.err).toContain('expect[0].home: no home "h7"');
    expect(r2.err).toContain('expect[0].cause: no step with id "nope"');
  });

  it('reports problems of the site configuration by path, with the config file named', async () => {
    const raw = demoRaw();
    (raw.site as Record<string, unknown>).timezone = 'Mars/Olympus';
    const file = write('bad-site.yaml', { config: raw, expect: [{ none: true }] });
    const r = await sim(['scenario', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('config.site.timezone: not an IANA time zone');
  });
});

describe('carehub-sim scenario against a running hub (--hub-http, --hub-mqtt)', () => {
  let t: TestHub | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('plays the same steps against a hub in manual clock mode, logged in as supervisor1', async () => {
    t = await startHub({
      raw: { ...demoRaw(), clock: 'manual' },
      manualClockStart: Date.parse('2026-11-26T08:00:00+08:00'),
    });
    const { code, result } = await scenarioJson('devices-sim/scenarios/accidental-sos-cancelled.yaml', [
      '--hub-http',
      t.httpUrl,
      '--hub-mqtt',
      t.mqttUrl,
    ]);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(code).toBe(0);
    const clock = t.hub.clock.now();
    expect(clock).toBe(Date.parse('2026-11-26T12:00:00+08:00'));
  });

  it('refuses a hub without the drill clock, and a clock already past the start', async () => {
    t = await startHub();
    const noClock = await sim([
      'scenario',
      'devices-sim/scenarios/kitchen-fire.yaml',
      '--hub-http',
      t.httpUrl,
      '--hub-mqtt',
      t.mqttUrl,
    ]);
    expect(noClock.code).toBe(1);
    expect(noClock.err).toContain('has no drill clock: start it with clock: manual');
    await t.stop();
    t = await startHub({
      raw: { ...demoRaw(), clock: 'manual' },
      manualClockStart: Date.parse('2026-12-01T08:00:00+08:00'),
    });
    const late = await sim([
      'scenario',
      'devices-sim/scenarios/kitchen-fire.yaml',
      '--hub-http',
      t.httpUrl,
      '--hub-mqtt',
      t.mqttUrl,
    ]);
    expect(late.code).toBe(1);
    expect(late.err).toContain("is already past the scenario's start");
  });
});

describe('a Zigbee2MQTT bridge that relays reports is alive', () => {
  it('raises no device_offline for the gateway over two days of relayed reports (bridge/state only at connect)', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const base = parse(readFileSync(join(LIBRARY, 'gateway-offline.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    const dir = tempDir('carehub-z2m-');
    const file = join(dir, 'relay.yaml');
    writeFileSync(
      file,
      stringify({
        name: 'bridge relaying',
        config: base.config,
        start: '2026-11-26 12:00',
        heartbeats: '1h',
        timeline: [
          { at: '12:01', device: 'z1-gw', action: 'silent' },
          { at: '13:00', device: 'z1-door', action: 'open' },
          { after: '1m', device: 'z1-door', action: 'close' },
          { at: '18:00', device: 'z1-door', action: 'open' },
          { after: '1m', device: 'z1-door', action: 'close' },
          { at: '08:00', device: 'z1-door', action: 'open' },
          { after: '1m', device: 'z1-door', action: 'close' },
          { at: '12:00', device: 'z1-door', action: 'open' },
          { after: '1m', device: 'z1-door', action: 'close' },
        ],
        end: { at: '15:00' },
        expect: [{ none: true }],
      }),
    );
    try {
      const { code, result } = await scenarioJson(file);
      expect(result.unexpected).toEqual([]);
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
