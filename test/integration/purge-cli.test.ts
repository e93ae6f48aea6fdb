import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { api, connectDevice, demoRaw, login, startHub, tempDir } from '../helpers/hub.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'carehub.js');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('carehub purge-resident', () => {
  it('shows what it will erase, needs confirmation, then erases the home data and says so', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const t = await startHub({ dataDir });
    const dev = await connectDevice(t.mqttUrl, 'h2-sos');
    await dev.publishAsync(
      'carehub/v1/devices/h2-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'purge-1' }),
      { qos: 1 },
    );
    await dev.endAsync();
    const tok = await login(t.httpUrl, 'supervisor1');
    const { body } = await api<{ alerts: Array<{ id: string }> }>(t.httpUrl, tok, '/api/v1/alerts');
    await api(t.httpUrl, tok, `/api/v1/alerts/${body.alerts[0]?.id}/resolve`, {
      body: { outcome: 'genuine' },
    });
    await t.stop({ keepData: true });

    const configFile = join(dataDir, 'site.yaml');
    writeFileSync(configFile, stringify({ ...demoRaw(), dataDir }));
    const run = (...args: string[]) =>
      spawnSync('node', [CLI, 'purge-resident', ...args, '--config', configFile], {
        encoding: 'utf8',
        input: '',
      });

    const unconfirmed = run('r2');
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stdout).toMatch(/This will erase:\s+resident r2, home h2/);
    expect(unconfirmed.stderr).toMatch(/nothing erased/);
    const countH2 = () => {
      const db = new Database(join(dataDir, 'hub.db'), { readonly: true });
      const n =
        (db.prepare("SELECT count(*) AS n FROM journal WHERE home_id = 'h2'").get() as { n: number }).n +
        (db.prepare("SELECT count(*) AS n FROM alerts WHERE home_id = 'h2'").get() as { n: number }).n;
      db.close();
      return n;
    };
    expect(countH2()).toBeGreaterThan(0);

    const done = run('r2', '--yes');
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Erased:\s+resident r2, home h2/);
    expect(countH2()).toBe(0);

    const unknown = run('nobody', '--yes');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/HUB_ERR_NOT_FOUND/);
  });
});
