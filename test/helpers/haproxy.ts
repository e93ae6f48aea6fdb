import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './hub-process.js';

export const HAPROXY = '/usr/sbin/haproxy';
export const HAPROXY_CFG = join(ROOT, 'deploy', 'cluster', 'haproxy.cfg');

export const haproxyInstalled = (): boolean => existsSync(HAPROXY);

export interface Backend {
  name: string;
  mqtt: number;
  http: number;
}

/**
 * The shipped deploy/cluster/haproxy.cfg made local: the same frontends, backends and health
 * checks, with loopback ports for the listeners and the hubs instead of the compose names,
 * without Docker's resolver, and fewer connections.
 */
export function localHaproxyConfig(ports: { mqtt: number; http: number }, hubs: Backend[]): string {
  const text = readFileSync(HAPROXY_CFG, 'utf8');
  const out: string[] = [];
  let skipResolvers = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('resolvers ')) {
      skipResolvers = true;
      continue;
    }
    if (skipResolvers) {
      if (line.startsWith(' ') || line.trim() === '') continue;
      skipResolvers = false;
    }
    // The production figure needs a raised open-files limit (compose sets it); tests have fewer.
    let l = line.replace(' resolvers docker', '').replace(/^(\s*)maxconn \d+$/, '$1maxconn 4000');
    l = l.replace(/^(\s*)bind :1883$/, `$1bind 127.0.0.1:${ports.mqtt}`);
    l = l.replace(/^(\s*)bind :8080$/, `$1bind 127.0.0.1:${ports.http}`);
    const server = /^(\s*)server (hub-\w+) hub-\w+:(1883|8080) check( port 8080)?$/.exec(l);
    if (server) {
      const hub = hubs.find((h) => h.name === server[2]);
      if (!hub) continue;
      const port = server[3] === '1883' ? hub.mqtt : hub.http;
      l = `${server[1]}server ${hub.name} 127.0.0.1:${port} check${server[4] ? ` port ${hub.http}` : ''}`;
    }
    out.push(l);
  }
  return out.join('\n');
}

/** HAProxy in the foreground on the local config; resolves once its MQTT frontend accepts. */
export async function startHaproxy(
  dir: string,
  ports: { mqtt: number; http: number },
  hubs: Backend[],
): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, localHaproxyConfig(ports, hubs));
  const child = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-10_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port: ports.mqtt }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`haproxy did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}
