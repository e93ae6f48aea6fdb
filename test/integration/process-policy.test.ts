import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../hub/src/errors.js';
import { Hub } from '../../hub/src/main.js';
import { startHub } from '../helpers/hub.js';
import { type HubChild, ROOT, spawnHubProcess, startHubChild } from '../helpers/hub-process.js';

/**
 * The hub as a process under a supervisor's rules (issue 16, item 7 and the process policy): one hub
 * per data dir, ports.json belongs to the hub that wrote it, a fatal error ends the process loudly
 * with status 70 for the supervisor to restart it, and every restart shows in /healthz and /metrics.
 */
const DEMO = join(ROOT, 'config', 'demo.yaml');
const FAULT = join(ROOT, 'test', 'helpers', 'inject-fault.mjs');

interface Health {
  checks: {
    restarts: {
      starts: number;
      unclean: number;
      lastUncleanAt: string | null;
      lastCrash: { at: string; reason: string } | null;
    };
  };
}

describe('process policy: data-dir lock, fatal errors, restart record', () => {
  const children = new Set<ChildProcess>();
  const dirs: string[] = [];

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` before this test (`npm test` does)');
  });

  afterEach(async () => {
    await Promise.all(
      [...children].map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGKILL');
          await gone;
        }
      }),
    );
    children.clear();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'carehub-policy-'));
    dirs.push(d);
    return d;
  }

  function start(dataDir: string, opts: Parameters<typeof startHubChild>[2] = {}): Promise<HubChild> {
    return startHubChild(DEMO, dataDir, { ...opts, onSpawn: (c) => children.add(c) });
  }

  async function health(hub: HubChild): Promise<Health> {
    return (await (await fetch(`${hub.httpUrl}/healthz`)).json()) as Health;
  }

  async function metric(hub: HubChild, line: RegExp): Promise<number | undefined> {
    const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
    const m = line.exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  }

  it('refuses a second hub on a data dir in use with HUB_ERR_DATA_DIR_LOCKED naming the pid; the first keeps its ports.json and its devices', {
    timeout: 60_000,
  }, async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const portsBefore = readFileSync(join(dataDir, 'ports.json'), 'utf8');

    const second = spawnHubProcess(DEMO, dataDir, { keepPortsFile: true });
    children.add(second.child);
    const code = await new Promise<number | null>((resolve) => second.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(second.output()).toContain('HUB_ERR_DATA_DIR_LOCKED');
    expect(second.output()).toContain(`pid ${first.child.pid}`);

    // The refused hub removed nothing of the running one's, and the running one still works.
    expect(readFileSync(join(dataDir, 'ports.json'), 'utf8')).toBe(portsBefore);
    expect((await fetch(`${first.httpUrl}/healthz`)).status).toBe(200);

    // In one process too: a Hub object on a data dir another Hub holds is refused before it opens the database.
    const t = await startHub();
    try {
      let caught: unknown;
      try {
        new Hub(t.config);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(HubError);
      expect((caught as HubError).code).toBe('HUB_ERR_DATA_DIR_LOCKED');
      expect((caught as HubError).message).toContain(`pid ${process.pid}`);
    } finally {
      await t.stop();
    }
  });

  it('a hub killed with -9 leaves no stale lock: the next start takes over and counts an unclean restart in /healthz and /metrics', {
    timeout: 60_000,
  }, async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    expect((await health(first)).checks.restarts).toMatchObject({
      starts: 1,
      unclean: 0,
      lastUncleanAt: null,
    });
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await start(dataDir);
    const h = (await health(second)).checks.restarts;
    expect(h).toMatchObject({ starts: 2, unclean: 1, lastCrash: null });
    expect(h.lastUncleanAt).not.toBeNull();
    expect(await metric(second, /^carehub_hub_starts\{kind="unclean"\} (\d+)/m)).toBe(1);
    expect(await metric(second, /^carehub_hub_starts\{kind="all"\} (\d+)/m)).toBe(2);

    // A clean stop (SIGTERM) is no crash: the next start says so.
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const third = await start(dataDir);
    expect((await health(third)).checks.restarts).toMatchObject({ starts: 3, unclean: 1 });
  });

  for (const fault of ['exception', 'rejection'] as const) {
    it(`an unhandled ${fault} ends the hub loudly with status 70; the next start reports the crash`, {
      timeout: 60_000,
    }, async () => {
      const dataDir = tempDir();
      const hub = await start(dataDir, {
        nodeArgs: ['--import', FAULT],
        env: { INJECT_FAULT: fault },
        logLevel: 'info',
      });
      hub.child.kill('SIGUSR2');
      const exit = await hub.exited;
      expect(exit.code).toBe(70);
      const fatal = hub
        .output()
        .split('\n')
        .filter((l) => l.includes('"level":60'));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toContain(fault === 'exception' ? 'uncaughtException' : 'unhandledRejection');
      expect(fatal[0]).toContain(`injected ${fault}`);
      expect(existsSync(join(dataDir, 'ports.json'))).toBe(false);

      const next = await start(dataDir);
      const h = (await health(next)).checks.restarts;
      expect(h).toMatchObject({ starts: 2, unclean: 1 });
      expect(h.lastCrash?.reason).toContain(`injected ${fault}`);
    });
  }
});
