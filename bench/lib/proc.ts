import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process (all its threads), in microseconds, from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1e6) / clockTicks();
}

/** stime alone (kernel time: syscalls, network stack, fsync), in microseconds. */
export function sysMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1e6) / clockTicks();
}

/** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Bytes the process caused to be written to storage, and write syscalls (/proc/<pid>/io). */
export function ioCounters(pid: number): { writeBytes: number; writeCalls: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? 0);
    return { writeBytes: get('write_bytes'), writeCalls: get('syscw') };
  } catch {
    return { writeBytes: 0, writeCalls: 0 };
  }
}

export function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** A CPU meter over a window: start(), then read() gives CPU-µs used since. */
export class CpuMeter {
  #start = 0;
  #sys = 0;
  #wall = 0;
  constructor(readonly pid: number) {}
  start(): this {
    this.#start = cpuMicros(this.pid);
    this.#sys = sysMicros(this.pid);
    this.#wall = performance.now();
    return this;
  }
  read(): { cpuUs: number; wallMs: number; cores: number; sysUs: number } {
    const cpuUs = cpuMicros(this.pid) - this.#start;
    const wallMs = performance.now() - this.#wall;
    return {
      cpuUs,
      wallMs,
      cores: cpuUs / 1000 / Math.max(1, wallMs),
      sysUs: sysMicros(this.pid) - this.#sys,
    };
  }
}

/** Monotonic milliseconds, comparable between processes on this machine (CLOCK_MONOTONIC). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `fn` until it returns a value other than undefined, or throw after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
