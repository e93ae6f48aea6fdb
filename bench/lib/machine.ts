import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  os: string;
  memoryMB: number;
  freeMemoryMB: number;
  openFileLimit: string;
  ephemeralPorts: string;
  mosquitto: string;
  tmpFilesystem: string;
  loadAverageAtStart: number[];
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const out = (err as { stdout?: string }).stdout;
    return typeof out === 'string' && out.trim() ? out.trim() : 'unknown';
  }
}

/** What the figures were measured on: they only mean something next to this. */
export function machineInfo(): Machine {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const nofile = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    os: `${process.platform} ${release()}`,
    memoryMB: Math.round(totalmem() / 2 ** 20),
    freeMemoryMB: Math.round(freemem() / 2 ** 20),
    openFileLimit: nofile ? `${nofile[1]} soft / ${nofile[2]} hard` : 'unknown',
    ephemeralPorts: readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '-'),
    mosquitto: run('/usr/sbin/mosquitto', ['-h']).split('\n')[0] ?? 'unknown',
    tmpFilesystem: run('df', ['-T', tmpdir()]).split('\n')[1]?.split(/\s+/)[1] ?? 'unknown',
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
