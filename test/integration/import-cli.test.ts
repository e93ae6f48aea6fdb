import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hashSecret } from '../../hub/src/auth/secrets.js';
import { api, demoRaw, login, startHub, type TestHub, tempDir } from '../helpers/hub.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'carehub.js');
const dirs: string[] = [];
const hubs: TestHub[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Raw = Record<string, unknown> & {
  homes: Array<Record<string, unknown> & { id: string; residents: unknown[]; devices: unknown[] }>;
};

function cli(...args: string[]) {
  return spawnSync('node', [CLI, ...args], { encoding: 'utf8', input: '' });
}

async function connects(url: string, id: string, password: string): Promise<boolean> {
  try {
    const c = await mqtt.connectAsync(url, { clientId: id, username: id, password, reconnectPeriod: 0 });
    await c.endAsync();
    return true;
  } catch {
    return false;
  }
}

describe('carehub import --config', () => {
  it('moves an edited file into a running site’s store, keeping everything made at run time; a dry run and a bad file change nothing', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // A site in use: seeded from the file, then changed through the API.
    let t = await startHub({ dataDir });
    const admin = await login(t.httpUrl, 'admin1');
    const added = await api(t.httpUrl, admin, '/api/v1/homes/h2', {
      method: 'PATCH',
      body: {
        residents: [
          ...(t.hub.directory.homeRecord('h2')?.residents ?? []),
          { id: 'r2b', name: 'Chen Lin', birthYear: 1944, language: 'zh-CN' },
        ],
      },
    });
    expect(added.status).toBe(200);
    const rotated = await api<{ secret: string }>(t.httpUrl, admin, '/api/v1/devices/h1-sos/secret', {
      method: 'POST',
    });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    await t.stop({ keepData: true });

    // The file as the bureau kept editing it: a new home, a new address, without the resident
    // and the secret made through the API.
    const raw = { ...demoRaw(), dataDir } as unknown as Raw;
    const h2 = raw.homes.find((h) => h.id === 'h2');
    if (!h2) throw new Error('demo has no h2');
    h2.address = 'Wenting Lane 5-203';
    raw.homes.push({
      id: 'h50',
      address: 'Wenting Lane 50-101',
      grid: 'g1',
      residents: [{ id: 'r50', name: 'Zhou Min', birthYear: 1939, language: 'zh-CN' }],
      contacts: [],
      devices: [{ id: 'h50-sos', kind: 'sos_button', secretHash: await hashSecret('h50-sos-secret-0001') }],
    });
    const configFile = join(dataDir, 'site.yaml');
    writeFileSync(configFile, stringify(raw));
    const digest = () => cli('digest', '--config', configFile).stdout.trim().split('\n').at(-1);
    const before = digest();
    expect(before).toMatch(/[0-9a-f]{16,}/);

    const dry = cli('import', '--config', configFile, '--dry-run');
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would be imported; nothing changed/);
    expect(digest()).toBe(before);

    // A file at odds with the store: its new home's resident has the id of the one added through
    // the API (which the file does not know). Named, coded, and nothing of the file applied.
    const bad = structuredClone(raw);
    bad.homes.push({
      id: 'h51',
      address: 'Wenting Lane 51-101',
      grid: 'g1',
      residents: [{ id: 'r2b', name: 'Someone Else', birthYear: 1940, language: 'zh-CN' }],
      contacts: [],
      devices: [],
    });
    const badFile = join(dataDir, 'bad.yaml');
    writeFileSync(badFile, stringify(bad));
    const refused = cli('import', '--config', badFile);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/1 problem\(s\); nothing imported/);
    expect(refused.stdout).toMatch(/home h51 residents\.0\.id: HUB_ERR_DUPLICATE_ID/);
    expect(digest()).toBe(before);

    const run = cli('import', '--config', configFile);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/imported: \d+ records created/);
    expect(digest()).not.toBe(before);

    t = await startHub({ dataDir, raw });
    hubs.push(t);
    const dir = t.hub.directory;
    expect(dir.home('h50')?.devices.map((d) => d.id)).toEqual(['h50-sos']);
    expect(dir.homeRecord('h2')?.address).toBe('Wenting Lane 5-203');
    // Made at run time, absent from the file: kept.
    expect(dir.homeRecord('h2')?.residents.map((r) => r.id)).toEqual(['r2', 'r2b']);
    expect(await connects(t.mqttUrl, 'h1-sos', newSecret)).toBe(true);
    expect(await connects(t.mqttUrl, 'h1-sos', 'h1-sos-demo')).toBe(false);
    expect(await connects(t.mqttUrl, 'h50-sos', 'h50-sos-secret-0001')).toBe(true);
    // Recorded as a change of the directory, by the command.
    const changes = await api<{ changes: Array<{ actor: string; target: string }> }>(
      t.httpUrl,
      await login(t.httpUrl, 'admin1'),
      '/api/v1/directory/changes?homeId=h50',
    );
    expect(changes.body.changes.some((c) => c.actor === 'cli' && c.target.includes('h50'))).toBe(true);

    // While the hub runs on the data dir, the command does nothing (the data dir is the hub's).
    const locked = cli('import', '--config', configFile);
    expect(locked.status).not.toBe(0);
    expect(dir.home('h50')).toBeDefined();
  });
});
