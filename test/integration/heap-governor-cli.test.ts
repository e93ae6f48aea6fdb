import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCTION_NODE_FLAGS } from '../../hub/src/node-flags.js';
import { ROOT, spawnHubProcess } from '../helpers/hub-process.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `carehub start` (the built CLI) runs the heap governor, unless node was started with its own heap
 * growth, and says so when node runs without the production V8 options.
 */
describe('carehub start: heap governor and V8 options', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` before this test (`npm test` does)');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** The demo site (config/demo.yaml) on a data dir of its own. */
  function site(): { config: string; dataDir: string } {
    const dir = mkdtempSync(join(tmpdir(), 'carehub-heap-'));
    dirs.push(dir);
    return { config: join(ROOT, 'config', 'demo.yaml'), dataDir: join(dir, 'data') };
  }

  /** The hub's output once `pattern` shows in it (fails after 20 s or if the hub exits). */
  async function waitForOutput(
    hub: { child: ChildProcess; output: () => string },
    pattern: RegExp,
  ): Promise<string> {
    const deadline = Date.now() + 20_000;
    while (!pattern.test(hub.output())) {
      if (hub.child.exitCode !== null) throw new Error(`hub exited ${hub.child.exitCode}:\n${hub.output()}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} in 20 s:\n${hub.output()}`);
      await sleep(50);
    }
    return hub.output();
  }

  it('starts tight after start-up', async () => {
    const { config, dataDir } = site();
    const hub = spawnHubProcess(config, dataDir, { logLevel: 'debug' });
    children.push(hub.child);
    const out = await waitForOutput(hub, /"msg":"heap mode"/);
    const line = out.split('\n').find((l) => l.includes('"msg":"heap mode"')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ mod: 'memory', mode: 'tight', msg: 'heap mode' });
  });

  it('says which production V8 options node was started without', async () => {
    const { config, dataDir } = site();
    const hub = spawnHubProcess(config, dataDir, { logLevel: 'info' });
    children.push(hub.child);
    const out = await waitForOutput(hub, /started without the production options/);
    const line = out.split('\n').find((l) => l.includes('started without the production options')) ?? '';
    expect(JSON.parse(line)).toMatchObject({ level: 30, missing: ['--max-semi-space-size=32'] });
  });

  it('says nothing of them when node was started with them', async () => {
    const { config, dataDir } = site();
    const hub = spawnHubProcess(config, dataDir, { logLevel: 'debug', nodeArgs: [...PRODUCTION_NODE_FLAGS] });
    children.push(hub.child);
    // The line would come right after the governor's first one.
    await waitForOutput(hub, /"msg":"heap mode"/);
    await sleep(500);
    expect(hub.output()).not.toContain('started without the production options');
  });

  it('leaves the heap alone when node was started with --heap-growing-percent', async () => {
    const { config, dataDir } = site();
    const hub = spawnHubProcess(config, dataDir, {
      logLevel: 'debug',
      nodeArgs: ['--heap-growing-percent=50'],
    });
    children.push(hub.child);
    // Logged where the governor would have started and said its mode.
    const out = await waitForOutput(hub, /heap growth set on the node command line/);
    expect(out).not.toContain('"msg":"heap mode"');
  });
});
