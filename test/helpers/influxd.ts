import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (released before use, as lib/influxd.sh does). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface Influxd {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly running: boolean;
  /** SIGTERM and wait for the exit; the data dir and port stay for a restart. */
  stop(): Promise<void>;
  /** Start again on the same port and data dir. */
  restart(): Promise<void>;
  /** InfluxQL over HTTP (POST /query), parsed JSON. */
  query(db: string, q: string): Promise<InfluxQueryResult>;
  /** stop() and remove the data dir. */
  destroy(): Promise<void>;
}

export interface InfluxQueryResult {
  results: Array<{
    series?: Array<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }>;
    error?: string;
  }>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/**
 * A real InfluxDB 1.x (Debian's influxd 1.6.7) on free ports with a temp data dir: the TypeScript
 * twin of acceptance/lib/influxd.sh. Give `dir` and `port` to reuse them.
 */
export async function startInfluxd(options: { dir?: string; port?: number } = {}): Promise<Influxd> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'carehub-influxd-'));
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const rpcPort = await freePort();
    const conf = join(dir, 'influxdb.conf');
    writeFileSync(
      conf,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpcPort}"`,
        '[meta]',
        `  dir = "${join(dir, 'meta')}"`,
        '[data]',
        `  dir = "${join(dir, 'data')}"`,
        `  wal-dir = "${join(dir, 'wal')}"`,
        '  query-log-enabled = false',
        '[http]',
        `  bind-address = "127.0.0.1:${port}"`,
        '  log-enabled = false',
        '',
      ].join('\n'),
    );
    const log = openSync(join(dir, 'influxd.log'), 'a');
    const proc = spawn('influxd', ['run', '-config', conf], { stdio: ['ignore', log, log] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    child = proc;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null)
        throw new Error(`influxd exited with ${proc.exitCode}; see ${join(dir, 'influxd.log')}`);
      try {
        const res = await fetch(`${url}/ping`);
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    throw new Error('influxd did not answer /ping within 20 s');
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url,
    port,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null;
    },
    stop,
    restart: launch,
    async query(db, q) {
      const res = await fetch(`${url}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ db, q }).toString(),
      });
      if (!res.ok) throw new Error(`influx query ${res.status}: ${await res.text()}`);
      return (await res.json()) as InfluxQueryResult;
    },
    async destroy() {
      await stop();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
