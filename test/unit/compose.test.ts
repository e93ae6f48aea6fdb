import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * No Docker engine runs here, so docker-compose.yml is checked statically: every referenced file
 * exists, every ${VAR} is in .env.example, secrets have no defaults, healthchecks exist, data
 * lives in named volumes.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as {
  services: Record<
    string,
    {
      image?: string;
      build?: { context: string; dockerfile: string };
      environment?: Record<string, string>;
      volumes?: string[];
      healthcheck?: { test: string[] };
      depends_on?: Record<string, { condition: string }>;
      restart?: string;
      init?: boolean;
    }
  >;
  volumes: Record<string, unknown>;
};
const envExample = new Map(
  readFileSync(join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()] as const),
);
const VAR = /\$\{([A-Za-z0-9_]+)(?::?[-?][^}]*)?\}/g;
const isSecret = (name: string) => /PASSWORD|TOKEN|SECRET/.test(name);

/** Substitute ${VAR}, ${VAR:-default}, ${VAR:?msg} with .env.example values, as compose would. */
function interpolate(s: string): string {
  return s.replace(
    /\$\{([A-Za-z0-9_]+)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op: string | undefined, arg: string | undefined) => {
      const v = envExample.get(name);
      if (v) return v;
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

describe('docker-compose.yml', () => {
  it('has the hub (built here), InfluxDB 1.8 and Grafana, each with a healthcheck', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'hub', 'influxdb']);
    expect(compose.services.influxdb?.image).toBe('influxdb:1.8');
    expect(compose.services.grafana?.image).toMatch(/^grafana\/grafana/);
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.healthcheck?.test?.length, `${name} healthcheck`).toBeGreaterThan(1);
    }
    expect(compose.services.hub?.healthcheck?.test.join(' ')).toContain('/healthz');
    // alarms never wait for the time-series store
    expect(compose.services.hub?.depends_on?.influxdb?.condition).toBe('service_started');
  });

  it('runs the hub under a supervisor: restarted after any exit (a fatal error exits 70), with an init as PID 1', () => {
    expect(compose.services.hub?.restart).toBe('always');
    expect(compose.services.hub?.init).toBe(true);
  });

  it('names every compose variable in .env.example', () => {
    const used = [...composeText.matchAll(VAR)].map((m) => m[1] ?? '');
    expect(used.length).toBeGreaterThan(5);
    for (const v of new Set(used)) expect(envExample.has(v), `${v} in .env.example`).toBe(true);
  });

  it('ships no default passwords: secrets are empty in .env.example and required (:?) in compose', () => {
    const secrets = [...envExample.keys()].filter(isSecret);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const s of secrets) expect(envExample.get(s), `${s} has no default`).toBe('');
    for (const m of composeText.matchAll(VAR)) {
      if (isSecret(m[1] ?? '')) expect(m[0], `${m[1]} is required`).toMatch(/^\$\{[A-Z0-9_]+:\?/);
    }
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (isSecret(key))
          expect(String(value), `${name}.${key} comes from .env`).toMatch(/^\$\{[A-Z0-9_]+:\?[^}]*\}$/);
      }
    }
  });

  it('keeps data in named volumes and mounts only files and dirs that exist (provisioning read-only)', () => {
    const named = new Set(Object.keys(compose.volumes ?? {}));
    const usedNamed = new Set<string>();
    const dataPaths: Record<string, string> = {
      hub: '/data',
      influxdb: '/var/lib/influxdb',
      grafana: '/var/lib/grafana',
    };
    for (const [name, svc] of Object.entries(compose.services)) {
      const mounts = (svc.volumes ?? []).map((v) => {
        const parts = interpolate(v).split(':');
        return { source: parts[0] ?? '', target: parts[1] ?? '', mode: parts[2] };
      });
      for (const m of mounts) {
        if (m.source.startsWith('.') || isAbsolute(m.source)) {
          expect(existsSync(join(ROOT, m.source)), `${name}: ${m.source} exists`).toBe(true);
          expect(m.mode, `${name}: ${m.source} mounted read-only`).toBe('ro');
        } else {
          expect(named.has(m.source), `${name}: volume ${m.source} is declared`).toBe(true);
          usedNamed.add(m.source);
        }
      }
      const data = mounts.find((m) => m.target === dataPaths[name]);
      expect(data && named.has(data.source), `${name} keeps ${dataPaths[name]} in a named volume`).toBe(true);
    }
    expect([...usedNamed].sort()).toEqual([...named].sort());
    expect(compose.services.grafana?.volumes).toEqual(
      expect.arrayContaining(['./dashboards/grafana/provisioning:/etc/grafana/provisioning:ro']),
    );
  });

  it('gives Grafana every variable its datasource provisioning reads', () => {
    const ds = readFileSync(
      join(ROOT, 'dashboards', 'grafana', 'provisioning', 'datasources', 'carehub.yaml'),
      'utf8',
    );
    const needed = [...ds.matchAll(VAR)].map((m) => m[1] ?? '');
    expect(needed.length).toBeGreaterThanOrEqual(3);
    for (const v of needed) expect(Object.keys(compose.services.grafana?.environment ?? {}), v).toContain(v);
  });

  it('builds the hub from a Dockerfile: node:20-bookworm-slim, npm ci, build, non-root, /data, healthcheck', () => {
    const build = compose.services.hub?.build;
    expect(build).toBeDefined();
    const dockerfile = readFileSync(
      join(ROOT, build?.context ?? '.', build?.dockerfile ?? 'Dockerfile'),
      'utf8',
    );
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.every((f) => f === 'node:20-bookworm-slim')).toBe(true);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/npm run build/);
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    expect(users.length).toBeGreaterThan(0);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(\S+)\s/gm)) {
      expect(existsSync(join(ROOT, m[1] ?? '')), `COPY ${m[1]}`).toBe(true);
    }
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', '.env', '.git']));
  });

  it('is documented: docs/deploy.md explains every variable of .env.example', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
    for (const v of envExample.keys()) expect(doc, v).toContain(v);
  });
});
