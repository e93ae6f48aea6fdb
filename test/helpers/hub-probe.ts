import { createLogger } from '../../hub/src/log.js';
import { startHub, type TestHub } from './hub.js';

/** Small probes of a running test hub: a metric's value, its log lines, a bounded wait. */

export interface LogLine {
  msg?: string;
  level?: number;
  [k: string]: unknown;
}

/** One value of the hub's Prometheus text (0 when the series does not exist yet). */
export async function metric(t: TestHub, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const key = sel ? `${name}{${sel}}` : name;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
}

/** Rejects when `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A hub whose `info` log lines are kept, parsed, in `lines`. */
export async function startLoggedHub(
  options: Parameters<typeof startHub>[0] = {},
): Promise<{ t: TestHub; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const stream = {
    write(s: string) {
      for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
    },
  };
  const t = await startHub({ ...options, logger: createLogger('info', stream) });
  return { t, lines };
}
