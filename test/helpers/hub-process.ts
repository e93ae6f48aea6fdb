import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CAREHUB_BIN = join(ROOT, 'bin', 'carehub.js');

/** This process's environment without CAREHUB_* variables, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAREHUB_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * `carehub start --config FILE` (the built CLI) as a child process on free ports with `dataDir`,
 * its output kept (the last 20 000 characters). A stale ports.json from a killed hub is removed
 * first, so the caller can wait for the new one. `nodeArgs` go before the script, `logLevel` is
 * CAREHUB_LOG_LEVEL (default warn).
 */
export function spawnHubProcess(
  config: string,
  dataDir: string,
  opts: { nodeArgs?: string[]; logLevel?: string } = {},
): { child: ChildProcess; output: () => string } {
  rmSync(join(dataDir, 'ports.json'), { force: true });
  const args = [...(opts.nodeArgs ?? []), CAREHUB_BIN, 'start', '--config', config];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: cleanEnv({
      CAREHUB_MQTT_PORT: '0',
      CAREHUB_HTTP_PORT: '0',
      CAREHUB_DATA_DIR: dataDir,
      CAREHUB_LOG_LEVEL: opts.logLevel ?? 'warn',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}
