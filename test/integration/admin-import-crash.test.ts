import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_CONFIG, login, tempDir } from '../helpers/hub.js';
import { type HubChild, ROOT, startHubChild } from '../helpers/hub-process.js';

/**
 * An import is all or nothing, even when the hub dies in the middle of it: a kill -9 (SIGKILL,
 * sent by the hub to itself at a known point inside the import's transaction, by a preloaded test
 * module) leaves none of the file applied, and the hub starts again with the site as it was.
 */
const dirs: string[] = [];
const children: HubChild[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function csv(homes: number): string {
  const lines = ['home_id,address,grid,resident_id,resident_name,device_id,device_kind'];
  for (let i = 0; i < homes; i++)
    lines.push(`k${i},Crash Lane ${i},g1,rk${i},Resident ${i},k${i}-sos,sos_button`);
  return lines.join('\n');
}

describe('an import cut by kill -9', () => {
  it('applies nothing of the file; after a restart the site is as before and the file imports whole', {
    timeout: 120_000,
  }, async () => {
    const dataDir = tempDir('carehub-import-crash-');
    dirs.push(dataDir);
    // The seed makes 3 homes; the 100th home of the file is where the power goes.
    const hub = await startHubChild(DEMO_CONFIG, dataDir, {
      nodeArgs: ['--import', join(ROOT, 'test', 'helpers', 'kill-mid-import.mjs')],
      env: { CAREHUB_TEST_KILL_AFTER_HOMES: '103' },
    });
    children.push(hub);
    const token = await login(hub.httpUrl, 'admin1');
    const answer = await fetch(`${hub.httpUrl}/api/v1/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: csv(250),
    }).then(
      (r) => r.status,
      () => 'connection lost',
    );
    expect(answer).toBe('connection lost');
    expect((await hub.exited).signal).toBe('SIGKILL');

    const again = await startHubChild(DEMO_CONFIG, dataDir);
    children.push(again);
    const admin = await login(again.httpUrl, 'admin1');
    const homes = async () =>
      (
        (await (
          await fetch(`${again.httpUrl}/api/v1/admin/homes?limit=1000`, {
            headers: { authorization: `Bearer ${admin}` },
          })
        ).json()) as {
          total: number;
        }
      ).total;
    expect(await homes()).toBe(3);
    const whole = await fetch(`${again.httpUrl}/api/v1/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: csv(250),
    });
    expect(whole.status).toBe(200);
    expect(await homes()).toBe(253);
  });
});
