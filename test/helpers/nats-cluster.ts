import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';

export const NATS_SERVER = '/usr/sbin/nats-server';

export const natsServerInstalled = (): boolean => existsSync(NATS_SERVER);

/** A free loopback TCP port (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  name: string;
  port: number;
  clusterPort: number;
  storeDir: string;
  child: ChildProcess | undefined;
  output: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Real nats-server processes (Debian's, 2.9.10 here) with JetStream, routed to each other on
 * loopback: a NATS cluster as production runs it, started and killed by the tests.
 */
export class NatsCluster {
  readonly servers: Server[] = [];

  private constructor(
    readonly dir: string,
    private readonly noAdvertise: boolean,
  ) {}

  /** `noAdvertise`: clients learn no other server than those they were given (a partition test's proxies). */
  static async start(dir: string, size = 3, opts: { noAdvertise?: boolean } = {}): Promise<NatsCluster> {
    const c = new NatsCluster(dir, opts.noAdvertise === true);
    for (let i = 0; i < size; i++) {
      const storeDir = join(dir, `nats-${i}`);
      mkdirSync(storeDir, { recursive: true });
      c.servers.push({
        name: `n${i}`,
        port: await freePort(),
        clusterPort: await freePort(),
        storeDir,
        child: undefined,
        output: '',
      });
    }
    for (let i = 0; i < size; i++) c.#spawn(i);
    await c.waitReady();
    return c;
  }

  get urls(): string[] {
    return this.servers.map((s) => `nats://127.0.0.1:${s.port}`);
  }

  /** Process ids of the running servers. */
  pids(): number[] {
    return this.servers.flatMap((s) =>
      s.child?.pid !== undefined && s.child.exitCode === null ? [s.child.pid] : [],
    );
  }

  url(i: number): string {
    return `nats://127.0.0.1:${(this.servers[i] as Server).port}`;
  }

  #spawn(i: number): void {
    const s = this.servers[i] as Server;
    const routes = this.servers
      .filter((o) => o !== s)
      .map((o) => `nats://127.0.0.1:${o.clusterPort}`)
      .join(',');
    const child = spawn(
      NATS_SERVER,
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(s.port),
        '-n',
        s.name,
        '--server_name',
        s.name,
        '-js',
        '-sd',
        s.storeDir,
        // One server alone: no cluster.
        ...(this.servers.length > 1
          ? [
              '--cluster_name',
              'carehub-test',
              '--cluster',
              `nats://127.0.0.1:${s.clusterPort}`,
              '--routes',
              routes,
            ]
          : []),
        ...(this.noAdvertise ? ['--no_advertise=true'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (d: Buffer) => {
      s.output = (s.output + d.toString()).slice(-10_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    s.child = child;
  }

  /** JetStream answers through every running server (a meta leader is elected). */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const s of this.servers) {
      if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) continue;
      for (;;) {
        try {
          const nc = await connect({
            servers: `nats://127.0.0.1:${s.port}`,
            timeout: 1000,
            reconnect: false,
          });
          try {
            const jsm = await nc.jetstreamManager({ timeout: 1000 });
            await jsm.getAccountInfo();
            break;
          } finally {
            await nc.close();
          }
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`nats ${s.name} not ready: ${String(err)}\n${s.output}`);
          await sleep(200);
        }
      }
    }
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = (this.servers[i] as Server).child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await Promise.race([gone, sleep(5000)]);
  }

  /** Start a killed server again, same ports and store. */
  async restart(i: number): Promise<void> {
    this.#spawn(i);
    await this.waitReady();
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((_, i) => this.kill(i, 'SIGTERM')));
  }
}
