import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CliIo, main as sim } from '../../devices-sim/src/cli.js';
import { loadConfigFile, problemsOf } from '../../hub/src/config/load.js';
import { DEMO_CONFIG, deviceEvents, startHub, type TestHub, tempDir } from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILT = join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js');
const DEMO_TEXT = readFileSync(DEMO_CONFIG, 'utf8');

function checkConfig(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'carehub.js'), 'check-config', file], {
      cwd: ROOT,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAREHUB_'))),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The demo configuration with one text replaced (the first occurrence), written to a temporary file. */
function demoWith(dir: string, name: string, ...edits: Array<[string, string]>): string {
  let text = DEMO_TEXT;
  for (const [from, to] of edits) {
    expect(text, from).toContain(from);
    text = text.replace(from, to);
  }
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('carehub check-config for an installer', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports one tab as one problem, at its line and column, with the line shown', async () => {
    const file = demoWith(dir, 'tab.yaml', ['        birthYear: 1938', '\tbirthYear: 1938']);
    const line = lineOf(readFileSync(file, 'utf8'), '\tbirthYear');
    const r = await checkConfig(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: not valid YAML (1 problem)`);
    const problems = r.stderr.split('\n').filter((l) => l.startsWith(`  ${file}:`));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(
      `${file}:${line}:1: a tab is used to indent: YAML indents with spaces only`,
    );
    expect(problems[0]).toMatch(/\(\d+ further syntax errors follow from this one: fix it and check again\)/);
    expect(r.stderr).toContain(`${String(line).padStart(5)} | →birthYear: 1938`);
    expect(r.stderr).toMatch(/\n {10}\| \^\n/);
  });

  it('names a misspelt key once, with "did you mean", its position and the allowed keys, never the hash', async () => {
    const hash = 'scrypt$16384$8$1$vX4+k36lipOj5DXXeuuGAg==$JjLKEBGFgE4Sm5WODYkEyHgyDLKkuL786MBWdqq5+/M=';
    const file = demoWith(dir, 'typo.yaml', [`secretHash: "${hash}"`, `secrethash: "${hash}"`]);
    const line = lineOf(readFileSync(file, 'utf8'), 'secrethash');
    const r = await checkConfig(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: 1 problem\n`);
    expect(r.stderr).toContain(
      `${file}:${line}:9: homes[0].devices[0].secrethash: unknown setting (did you mean "secretHash"?); settings here: id, kind, secretHash, demoSecret, zigbee, baseTopic, label`,
    );
    // the "secretHash is missing" that follows from the typo is not a second problem
    expect(r.stderr).not.toContain('devices[0].secretHash');
    expect(r.stderr).not.toContain(hash);
    expect(r.stderr).toContain('secrethash: (hidden)');
  });

  it('shows the bad value, what is allowed and the likely fix for each problem, secrets masked', async () => {
    const file = demoWith(
      dir,
      'many.yaml',
      ['timezone: Asia/Shanghai', 'timezone: Asia/Shangai'],
      ['kind: door_sensor', 'kind: door_senser'],
      ['birthYear: 1938', 'birthYear: 1838'],
      ['passwordHash: "scrypt$16384$8$1$ydBs', 'passwordHash: "not-a-hash-ydBs'],
    );
    const r = await checkConfig(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: 4 problems`);
    expect(r.stderr).toContain(
      'site.timezone: not an IANA time zone (e.g. Asia/Shanghai); found "Asia/Shangai" (did you mean "Asia/Shanghai"?)',
    );
    expect(r.stderr).toContain(
      'homes[0].devices[1].kind: must be one of sos_button, door_sensor, smoke_detector, motion_sensor, gateway; found "door_senser" (did you mean "door_sensor"?)',
    );
    expect(r.stderr).toContain('homes[0].residents[0].birthYear: must be at least 1890; found 1838');
    expect(r.stderr).toMatch(
      /staff\[0\]\.passwordHash: must be a hash made by `carehub hash-secret`; found \(hidden, \d+ characters\)/,
    );
    expect(r.stderr).not.toContain('not-a-hash');
    // in file order, each with file:line:column
    const lines = [
      ...r.stderr.matchAll(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):\\d+:`, 'g')),
    ].map((m) => Number(m[1]));
    expect(lines).toHaveLength(4);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
  });

  it('gives the same problems, with positions, to every caller of loadConfigFile (problemsOf)', () => {
    const file = demoWith(dir, 'positions.yaml', ['kind: door_sensor', 'kind: door_senser']);
    try {
      loadConfigFile(file);
      expect.unreachable();
    } catch (err) {
      const [p] = problemsOf(err);
      expect(p).toMatchObject({
        path: 'homes[0].devices[1].kind',
        line: lineOf(readFileSync(file, 'utf8'), 'door_senser'),
        column: 15,
        value: '"door_senser"',
        didYouMean: 'door_sensor',
      });
    }
  });

  it('still says OK for a good file', async () => {
    const r = await checkConfig(DEMO_CONFIG);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK (3 homes, 11 devices, 3 staff)');
  });
});

describe('carehub-sim press: one device-kind rule with scenario drills', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub();
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIo = {
      out: (s) => (out += s),
      err: (s) => (err += s),
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAREHUB_'))),
      cwd: ROOT,
    };
    return { code: await sim(argv, io), out, err };
  }

  it('refuses an SOS from a door sensor, in the words scenario validation uses, and sends nothing', async () => {
    const r = await run(['press', 'h2-door', '--hub-mqtt', t.mqttUrl]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('h2-door is a door_sensor: press needs a sos_button, not a door_sensor');
    expect(r.err).toContain('h2-door can: open, close, tamper, heartbeat');
    expect(deviceEvents(t.hub).filter((e) => e.deviceId === 'h2-door')).toEqual([]);

    const scenario = join(tempDir(), 'door-sos.yaml');
    writeFileSync(
      scenario,
      stringify({
        config: DEMO_CONFIG,
        start: '2026-11-26 10:00',
        timeline: [{ after: '1m', device: 'h2-door', action: 'press' }],
        expect: [{ kind: 'sos', home: 'h2' }],
      }),
    );
    const drill = await run(['scenario', scenario]);
    expect(drill.code).not.toBe(0);
    expect(drill.err + drill.out).toContain('h2-door: press needs a sos_button, not a door_sensor');
  });

  it('still presses an SOS button and smokes a smoke detector', async () => {
    expect((await run(['press', 'h1-sos', '--hub-mqtt', t.mqttUrl])).code).toBe(0);
    expect((await run(['smoke-test', 'h2-smoke', '--hub-mqtt', t.mqttUrl])).code).toBe(0);
    const smoke = await run(['smoke', 'h1-door', '--hub-mqtt', t.mqttUrl]);
    expect(smoke.code).toBe(1);
    expect(smoke.err).toContain('smoke needs a smoke_detector, not a door_sensor');
  });
});
