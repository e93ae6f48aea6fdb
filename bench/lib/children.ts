import type { ChildProcess } from 'node:child_process';

/**
 * Every child process the bench starts is registered here and killed when the bench ends, also on
 * failure, Ctrl-C or an uncaught error: a benchmark must not leave brokers or load generators behind.
 */
const live = new Set<ChildProcess>();
let installed = false;

export function track(child: ChildProcess): ChildProcess {
  install();
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function killAll(): void {
  for (const c of live) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

/** Stop one child: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
export function stopChild(
  child: ChildProcess,
  graceMs = 10_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping children\n`);
      killAll();
      process.exit(130);
    });
  }
}
