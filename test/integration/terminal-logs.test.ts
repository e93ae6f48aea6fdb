import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { DEMO_CONFIG, tempDir } from '../helpers/hub.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILT = join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js');

/** Lines written to a stream, as a person or a log collector would get them. */
function capture(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

/**
 * `carehub start` on the demo configuration (free ports, a fresh data dir, the machine in UTC and
 * the site in Asia/Shanghai) until it says it is listening; then SIGINT. With `tty`, through
 * script(1), so its stdout is a terminal.
 */
function runHub(tty: boolean, dataDir: string): Promise<string> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first`);
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAREHUB_'))),
    TZ: 'UTC',
    NO_COLOR: '1',
    CAREHUB_MQTT_PORT: '0',
    CAREHUB_HTTP_PORT: '0',
    CAREHUB_DATA_DIR: dataDir,
  };
  const hub = `${process.execPath} ${join(ROOT, 'bin', 'carehub.js')} start --config ${DEMO_CONFIG}`;
  const child = tty
    ? spawn('script', ['-qec', hub, '/dev/null'], { env, cwd: ROOT })
    : spawn(process.execPath, [join(ROOT, 'bin', 'carehub.js'), 'start', '--config', DEMO_CONFIG], {
        env,
        cwd: ROOT,
      });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "CareHub listening" within 20 s:\n${out}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/CareHub listening/.test(out) && /\n/.test(out.slice(out.indexOf('CareHub listening')))) {
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** "2026-11-26 09:30:00.123" in the zone → epoch ms. */
function parseSiteTime(text: string, offset: string): number {
  return Date.parse(`${text.replace(' ', 'T')}${offset}`);
}

describe('log lines on a terminal and in files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('pretty lines read as the site’s clock: level in words, one line each, no epoch milliseconds', () => {
    const out = capture();
    const log = createLogger('info', out.stream, { timezone: 'Asia/Shanghai', pretty: true });
    const at = Date.now();
    log.warn({ client: 'h1-sos', reason: 'unknown_type' }, 'device message rejected');
    const [line] = out.lines();
    expect(line).toBeDefined();
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) WARN: device message rejected /.exec(line ?? '');
    expect(m, line).not.toBeNull();
    expect(Math.abs(parseSiteTime(m?.[1] ?? '', '+08:00') - at)).toBeLessThan(5000);
    expect(line).toContain('"client":"h1-sos"');
    expect(line).not.toMatch(/"time":\d{13}/);
    expect(line).not.toContain('"level":');
    expect(out.lines()).toHaveLength(1);
  });

  it('keeps pino’s JSON unchanged for a stream that is not a terminal', () => {
    const out = capture();
    const log = createLogger('info', out.stream, { timezone: 'Asia/Shanghai' });
    log.info({ device: 'h1-sos' }, 'hello');
    const parsed = JSON.parse(out.lines()[0] ?? '{}') as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 30, svc: 'carehub', device: 'h1-sos', msg: 'hello' });
    expect(typeof parsed.time).toBe('number');
  });

  it('`carehub start` prints human lines in the site’s zone on a terminal and JSON into a pipe', async () => {
    const ttyDir = tempDir();
    const pipeDir = tempDir();
    dirs.push(ttyDir, pipeDir);
    const startedAt = Date.now();
    const [onTty, intoPipe] = await Promise.all([runHub(true, ttyDir), runHub(false, pipeDir)]);

    // the terminal: "2026-… HH:MM:SS.mmm INFO: CareHub listening {…}" at Shanghai's clock, though the machine is on UTC
    const line = onTty.split(/\r?\n/).find((l) => l.includes('CareHub listening')) ?? '';
    const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) INFO: CareHub listening/.exec(line);
    expect(m, onTty).not.toBeNull();
    // read as Shanghai time it is now; a line in the machine's UTC would be 8 hours off
    const shown = parseSiteTime(m?.[1] ?? '', '+08:00');
    expect(Math.abs(shown - startedAt)).toBeLessThan(60_000);
    expect(onTty).not.toMatch(/\{"level":\d+,"time":\d{13}/);

    // the pipe: pino's JSON, epoch milliseconds and all
    const json = intoPipe
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; time?: unknown; level?: unknown });
    const listening = json.find((j) => j.msg === 'CareHub listening');
    expect(listening, intoPipe).toBeDefined();
    expect(typeof listening?.time).toBe('number');
    expect(listening?.level).toBe(30);
  }, 60_000);
});
