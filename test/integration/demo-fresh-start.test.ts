import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoOptions, main, type RunningDemo, startDemo } from '../../devices-sim/src/demo.js';
import { DEMO_MARKER } from '../../devices-sim/src/demo-data.js';
import { SimDevice } from '../../devices-sim/src/sim-device.js';
import { createLogger } from '../../hub/src/log.js';
import { openDatabase } from '../../hub/src/store/sqlite-db.js';
import { api, DEMO_CONFIG, login, tempDir } from '../helpers/hub.js';

interface Alert {
  id: string;
  kind: string;
  homeId: string;
  occurrences: number;
}

/** The demo, quiet (no script step within the test), on free ports and the given data dir. */
async function demo(
  dataDir: string,
  lines: string[],
  extra: Partial<DemoOptions> = {},
): Promise<RunningDemo> {
  return startDemo({
    configFile: DEMO_CONFIG,
    env: { CAREHUB_MQTT_PORT: '0', CAREHUB_HTTP_PORT: '0', CAREHUB_DATA_DIR: dataDir },
    speed: 0.001,
    heartbeatMs: 60_000,
    say: (l) => lines.push(l),
    hubOptions: { logger: createLogger('silent'), processMetrics: false },
    ...extra,
  });
}

async function openAlerts(d: RunningDemo): Promise<Alert[]> {
  const url = `http://127.0.0.1:${d.ports.http}`;
  const res = await api<{ alerts: Alert[] }>(
    url,
    await login(url, 'supervisor1'),
    '/api/v1/alerts?status=open',
  );
  return res.body.alerts;
}

async function pressSos(d: RunningDemo): Promise<void> {
  const sos = new SimDevice({ url: `mqtt://127.0.0.1:${d.ports.mqtt}`, id: 'h2-sos', secret: 'h2-sos-demo' });
  await sos.start();
  try {
    await sos.send('sos.pressed');
  } finally {
    await sos.stop();
  }
}

describe('npm start: a fresh demo each time, unless asked to keep its data', () => {
  let running: RunningDemo | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('starts without yesterday’s open alerts, so a new SOS is a new alert; --keep brings them back', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first: string[] = [];
    running = await demo(dataDir, first);
    expect(existsSync(join(dataDir, DEMO_MARKER))).toBe(true);
    await pressSos(running);
    await expect
      .poll(async () => (await openAlerts(running as RunningDemo)).length, { timeout: 5000 })
      .toBe(1);
    await running.stop();

    // started again: nothing of the last run, and the narration says so and how to keep it
    const second: string[] = [];
    running = await demo(dataDir, second);
    const banner = second.join('\n');
    expect(banner).toContain(`started fresh: the last run's data in ${dataDir} was erased`);
    expect(banner).toContain('npm start -- --keep');
    expect(await openAlerts(running)).toEqual([]);
    await pressSos(running);
    await expect
      .poll(async () => (await openAlerts(running as RunningDemo)).length, { timeout: 5000 })
      .toBe(1);
    const [sos] = await openAlerts(running);
    expect(sos?.occurrences).toBe(1);
    await running.stop();

    // kept: the open SOS is still there, and a new press merges into it as a repeat
    const third: string[] = [];
    running = await demo(dataDir, third, { keep: true });
    expect(third.join('\n')).toContain(`kept from the last run in ${dataDir}`);
    expect((await openAlerts(running)).map((a) => a.id)).toEqual([sos?.id]);
  }, 60_000);

  it('keeps the data with CAREHUB_DEMO_KEEP=1 too', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    running = await demo(dataDir, []);
    await pressSos(running);
    await expect
      .poll(async () => (await openAlerts(running as RunningDemo)).length, { timeout: 5000 })
      .toBe(1);
    await running.stop();
    running = await demo(dataDir, [], {
      env: {
        CAREHUB_MQTT_PORT: '0',
        CAREHUB_HTTP_PORT: '0',
        CAREHUB_DATA_DIR: dataDir,
        CAREHUB_DEMO_KEEP: '1',
      },
    });
    expect(await openAlerts(running)).toHaveLength(1);
  }, 60_000);

  it('never erases a hub database it did not make (CAREHUB_DATA_DIR pointing at a real hub)', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    mkdirSync(dataDir, { recursive: true });
    openDatabase(dataDir).close();
    writeFileSync(join(dataDir, 'keep-me.txt'), 'operator file');
    await expect(demo(dataDir, [])).rejects.toThrow(
      /holds a hub database the demo did not make; it is not erased/,
    );
    expect(existsSync(join(dataDir, 'hub.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'keep-me.txt'))).toBe(true);
  });

  it('refuses to empty the data dir of a demo that is still running', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    running = await demo(dataDir, []);
    await expect(demo(dataDir, [])).rejects.toThrow(/a hub is already running on/);
    expect(await openAlerts(running)).toEqual([]);
  });

  it('shows its times in the site’s zone and explains --keep in --help', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const lines: string[] = [];
    running = await demo(dataDir, lines, { speed: 100 });
    const banner = lines.join('\n');
    expect(banner).toContain("Asia/Shanghai (the site's time zone)");
    // the first script step (at ~0.03 s at speed 100) is narrated with Shanghai's clock
    await expect
      .poll(() => lines.find((l) => /^\d\d:\d\d:\d\d h1: movement/.test(l)), { timeout: 5000 })
      .toBeDefined();
    const stamp = (lines.find((l) => /^\d\d:\d\d:\d\d h1: movement/.test(l)) ?? '').slice(0, 8);
    const shanghai = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Shanghai',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date());
    // the hour of Shanghai's clock (or the one before, should the hour have turned meanwhile)
    const hour = Number(shanghai.slice(0, 2));
    expect([hour, (hour + 23) % 24]).toContain(Number(stamp.slice(0, 2)));

    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      out += chunk;
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out).toContain('--keep');
    expect(out).toContain('CAREHUB_DEMO_KEEP=1');
  });
});
