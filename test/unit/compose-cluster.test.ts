import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HAPROXY, HAPROXY_CFG, haproxyInstalled } from '../helpers/haproxy.js';
import { NATS_SERVER, natsServerInstalled } from '../helpers/nats-cluster.js';

/**
 * No Docker engine runs here, so docker-compose.cluster.yml is checked statically (as
 * docker-compose.yml is in compose.test.ts): three NATS servers routed to each other, three hubs
 * naming all three servers and a unique node id, HAProxy in front of exactly those hubs, every
 * variable in .env.example, secrets required, data in named volumes, mounted files present. The
 * services themselves run natively in the tests: nats-server and HAProxy (with this haproxy.cfg) in
 * test/integration/cluster*.test.ts, the hub everywhere, InfluxDB in the time-series tests.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const text = readFileSync(join(ROOT, 'docker-compose.cluster.yml'), 'utf8');
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
const compose = parse(text, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const envExample = new Set(
  readFileSync(join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => l.slice(0, l.indexOf('='))),
);
const VAR = /\$\{([A-Za-z0-9_]+)(?::?[-?][^}]*)?\}/g;
const NATS = ['nats-1', 'nats-2', 'nats-3'];
const HUBS = ['hub-a', 'hub-b', 'hub-c'];

describe('docker-compose.cluster.yml', () => {
  it('has three NATS servers, three hubs, HAProxy, InfluxDB and Grafana, each with a healthcheck', () => {
    expect(Object.keys(services).sort()).toEqual([...NATS, 'grafana', 'haproxy', ...HUBS, 'influxdb'].sort());
    for (const [name, svc] of Object.entries(services))
      expect(svc.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
    for (const h of HUBS) expect(services[h]?.healthcheck?.test.join(' ')).toContain('/healthz');
  });

  it('routes each NATS server to the other two, with JetStream on a volume and a nats-server that knows sync_interval', () => {
    for (const n of NATS) {
      const svc = services[n] as Service;
      expect(svc.image).toMatch(/^nats:2\.(1\d|[2-9]\d)/);
      const cmd = svc.command ?? [];
      expect(cmd[cmd.indexOf('--server_name') + 1]).toBe(n);
      const routes = (cmd[cmd.indexOf('--routes') + 1] ?? '').split(',').sort();
      expect(routes).toEqual(NATS.filter((o) => o !== n).map((o) => `nats://${o}:6222`));
      expect(svc.volumes).toEqual(
        expect.arrayContaining([`${n}-data:/data`, './deploy/cluster/nats.conf:/etc/nats/nats.conf:ro']),
      );
      expect(svc.restart).toBe('always');
    }
    const conf = readFileSync(join(ROOT, 'deploy', 'cluster', 'nats.conf'), 'utf8');
    expect(conf).toMatch(/store_dir: \/data/);
    expect(conf).toMatch(/sync_interval: always/);
    expect(conf).toMatch(/listen: 0\.0\.0\.0:6222/);
  });

  it('gives every hub all three NATS servers, its own node id and data volume, and waits for NATS', () => {
    const ids = new Set<string>();
    for (const h of HUBS) {
      const svc = services[h] as Service;
      const env = svc.environment ?? {};
      expect(env.CAREHUB_NATS_URL?.split(',').sort()).toEqual(NATS.map((n) => `nats://${n}:4222`));
      ids.add(env.CAREHUB_NODE_ID ?? '');
      expect(env.CAREHUB_MQTT_PORT).toBe('1883');
      expect(env.CAREHUB_HTTP_PORT).toBe('8080');
      expect(svc.volumes).toEqual(expect.arrayContaining([`${h}-data:/data`]));
      for (const n of NATS) expect(svc.depends_on?.[n]?.condition).toBe('service_healthy');
      expect(svc.restart).toBe('always');
      // Only the balancer is published.
      expect(svc.ports).toBeUndefined();
    }
    expect([...ids].sort()).toEqual(HUBS);
  });

  it('puts HAProxy in front of exactly the three hubs, health-checked on /healthz, on the published ports', () => {
    const svc = services.haproxy as Service;
    expect(svc.volumes).toEqual(['./deploy/cluster/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro']);
    const dollar = '$';
    expect(svc.ports).toEqual([
      `${dollar}{CAREHUB_MQTT_PUBLISH}:1883`,
      `${dollar}{CAREHUB_HTTP_PUBLISH}:8080`,
    ]);
    const cfg = readFileSync(HAPROXY_CFG, 'utf8');
    const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+):(\d+) check/gm)].map(
      (m) => `${m[1]} ${m[2]}:${m[3]}`,
    );
    expect(servers.sort()).toEqual(
      [...HUBS.map((h) => `${h} ${h}:1883`), ...HUBS.map((h) => `${h} ${h}:8080`)].sort(),
    );
    expect(cfg.match(/http-check send meth GET uri \/healthz/g)).toHaveLength(2);
    expect(cfg).toMatch(/bind :1883/);
    expect(cfg).toMatch(/bind :8080/);
  });

  it('names every variable in .env.example and requires every secret', () => {
    const used = [...text.matchAll(VAR)].map((m) => m[1] ?? '');
    expect(used.length).toBeGreaterThan(10);
    for (const v of new Set(used)) expect(envExample.has(v), `${v} in .env.example`).toBe(true);
    for (const m of text.matchAll(VAR))
      if (/PASSWORD|TOKEN|SECRET/.test(m[1] ?? ''))
        expect(m[0], `${m[1]} is required`).toMatch(/^\$\{[A-Z0-9_]+:\?/);
  });

  it('keeps data in named volumes and mounts only files that exist, read-only', () => {
    const named = new Set(Object.keys(compose.volumes ?? {}));
    const used = new Set<string>();
    for (const [name, svc] of Object.entries(services)) {
      for (const v of svc.volumes ?? []) {
        const [source = '', , mode] = v.replace(/\$\{[^}]+\}/g, './config/demo.yaml').split(':');
        if (source.startsWith('.') || isAbsolute(source)) {
          expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
          expect(mode, `${name}: ${source} read-only`).toBe('ro');
        } else {
          expect(named.has(source), `${name}: volume ${source} declared`).toBe(true);
          used.add(source);
        }
      }
    }
    expect([...used].sort()).toEqual([...named].sort());
  });

  it('ships a haproxy.cfg that HAProxy accepts', () => {
    if (!haproxyInstalled()) throw new Error('haproxy is missing: apt-get install haproxy');
    execFileSync(HAPROXY, ['-c', '-q', '-f', HAPROXY_CFG], { stdio: 'pipe' });
  });

  it('ships a nats.conf that nats-server accepts (sync_interval aside: Debian has 2.9.10)', () => {
    if (!natsServerInstalled()) throw new Error('nats-server is missing: apt-get install nats-server');
    const dir = mkdtempSync(join(tmpdir(), 'carehub-nats-conf-'));
    try {
      const conf = readFileSync(join(ROOT, 'deploy', 'cluster', 'nats.conf'), 'utf8')
        .replace(/^\s*sync_interval:.*$/m, '')
        .replace('/data', join(dir, 'js'));
      writeFileSync(join(dir, 'nats.conf'), conf);
      execFileSync(NATS_SERVER, ['-t', '-c', join(dir, 'nats.conf')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
