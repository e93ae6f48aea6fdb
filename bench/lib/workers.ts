import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type {
  ConnectArgs,
  ConnectResult,
  Counters,
  FanoutReport,
  LoadArgs,
  Reply,
  Request,
  StormArgs,
  SubClientsArgs,
} from '../loadgen/protocol.js';
import { stopChild, track } from './children.js';
import { sourceAddresses } from './net.js';

type Cmd = Request extends infer R ? (R extends { cmd: infer C } ? C : never) : never;

/** One load generator process and a typed RPC over its IPC channel. */
export class Worker {
  readonly child: ChildProcess;
  #seq = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly name: string) {
    this.child = track(
      fork(join(import.meta.dirname, '..', 'loadgen', 'worker.ts'), [], {
        execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    this.child.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id);
      if (!p) return;
      this.#pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(`${name}: ${reply.error}`));
    });
    this.child.once('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${name} exited (${code})`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  #call<T>(cmd: Cmd, args?: unknown, timeoutMs = 600_000): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, ...(args === undefined ? {} : { args }) });
    });
  }

  connect(args: ConnectArgs): Promise<ConnectResult> {
    return this.#call('connect', args, args.deadlineMs + 30_000);
  }
  load(args: LoadArgs): Promise<Counters> {
    return this.#call('load', args);
  }
  stopLoad(): Promise<Counters> {
    return this.#call('stopLoad', undefined, 30_000);
  }
  heartbeats(everyMs: number): Promise<Counters> {
    return this.#call('heartbeats', { everyMs });
  }
  stats(): Promise<Counters> {
    return this.#call('stats', undefined, 30_000);
  }
  storm(args: StormArgs): Promise<ConnectResult> {
    return this.#call('storm', args, args.deadlineMs + 30_000);
  }
  sink(args: SubClientsArgs): Promise<number> {
    return this.#call('sink', args, 90_000);
  }
  subClients(args: SubClientsArgs): Promise<number> {
    return this.#call('subClients', args, 90_000);
  }
  feedClients(wsUrl: string, token: string, count: number): Promise<number> {
    return this.#call('feedClients', { wsUrl, token, count }, 90_000);
  }
  pauseOne(resumes: number): Promise<boolean> {
    return this.#call('pauseOne', { resumes });
  }
  fanoutReport(sent: Record<string, number>, sinceMono: number): Promise<FanoutReport> {
    return this.#call('fanoutReport', { sent, sinceMono }, 60_000);
  }

  async close(): Promise<void> {
    try {
      await this.#call('disconnect', undefined, 15_000);
    } catch {
      // stopping anyway
    }
    this.child.disconnect?.();
    await stopChild(this.child, 5000);
  }
}

/**
 * Connect `ids` as installed devices (announce, then heartbeats when asked), split evenly over the
 * generators, each from its own block of source addresses, `perSecond` in all.
 */
export function connectDevices(
  workers: Worker[],
  o: { port: number; ids: string[]; secret: string; perSecond: number },
): Promise<ConnectResult[]> {
  const per = Math.ceil(o.ids.length / workers.length);
  return Promise.all(
    workers.map((w, g) =>
      w.connect({
        host: '127.0.0.1',
        port: o.port,
        localAddresses: sourceAddresses(20 + g),
        ids: o.ids.slice(g * per, (g + 1) * per),
        secret: o.secret,
        perSecond: o.perSecond / workers.length,
        concurrency: 300,
        announce: true,
        timeoutMs: 20_000,
        deadlineMs: 120_000,
      }),
    ),
  );
}

/** Sum the counters of several generators. */
export function sumCounters(list: Counters[]): Counters {
  const out: Counters = {
    connected: 0,
    sent: 0,
    acked: 0,
    failed: 0,
    skipped: 0,
    inflight: 0,
    received: 0,
    rssBytes: 0,
  };
  for (const c of list) for (const k of Object.keys(out) as Array<keyof Counters>) out[k] += c[k];
  return out;
}
