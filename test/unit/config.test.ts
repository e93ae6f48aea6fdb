import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type ConfigProblem, loadConfigFile, parseConfig, problemsOf } from '../../hub/src/config/load.js';
import { HubError } from '../../hub/src/errors.js';

const DEMO = join(import.meta.dirname, '..', '..', 'config', 'demo.yaml');

// biome-ignore lint/suspicious/noExplicitAny: raw YAML documents are edited freely here
type Raw = Record<string, any>;

function demoRaw(): Raw {
  return parseDocument(readFileSync(DEMO, 'utf8')).toJS() as Raw;
}

/** The problems parseConfig reports (it must throw HUB_ERR_CONFIG_INVALID). */
function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  try {
    parseConfig(raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('HUB_ERR_CONFIG_INVALID');
    return problemsOf(err);
  }
  throw new Error('expected the configuration to be refused');
}

const paths = (ps: ConfigProblem[]) => ps.map((p) => p.path);

describe('configuration', () => {
  it('parses the demo configuration, with defaults filled in, and freezes it', () => {
    const cfg = parseConfig(demoRaw());
    expect(cfg.demo).toBe(true);
    expect(cfg.site.timezone).toBe('Asia/Shanghai');
    expect(cfg.homes.map((h) => h.id)).toEqual(['h1', 'h2', 'h3']);
    expect(cfg.homes.flatMap((h) => h.devices.map((d) => d.id))).toEqual([
      'h1-sos',
      'h1-door',
      'h1-smoke',
      'h1-motion',
      'h2-sos',
      'h2-door',
      'h2-smoke',
      'h3-sos',
      'h3-door',
      'h3-smoke',
      'h3-motion',
    ]);
    expect(cfg.staff.map((s) => [s.id, s.role, s.grids])).toEqual([
      ['duty1', 'duty', ['g1']],
      ['supervisor1', 'supervisor', []],
      ['admin1', 'admin', []],
    ]);
    expect(cfg.homes[0]?.residents[0]?.wanderingRisk).toBe(true);
    expect(cfg.homes[1]?.residents[0]?.wanderingRisk).toBe(false);
    expect(cfg.mqtt).toMatchObject({
      port: 1883,
      wsPath: '/mqtt',
      maxEventBytes: 4096,
      connectTimeoutMs: 10_000,
    });
    expect(cfg.http.port).toBe(8080);
    expect(cfg.clock).toBe('system');
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.homes[0]?.devices[0])).toBe(true);
    expect(() => {
      (cfg.mqtt as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('loads the demo file through loadConfigFile', () => {
    const cfg = loadConfigFile(DEMO);
    expect(cfg.homes).toHaveLength(3);
  });

  it('lists every problem of a broken configuration by path, at once', () => {
    const raw = demoRaw();
    raw.colour = 'blue'; // unknown key at the root
    raw.mqtt.connectTimeout = 5000; // unknown key in a section (the real one is connectTimeoutMs)
    raw.site.timezone = 'Asia/Shangai'; // misspelt
    raw.homes[2].timezone = 'UTC+8';
    raw.homes[1].devices[0].id = 'h1-sos'; // duplicate device id
    raw.staff[0].grids = []; // duty staff without grids
    raw.demo = false; // demoSecret now not allowed
    const ps = problems(raw);
    const p = paths(ps);
    expect(p).toContain('colour');
    expect(p).toContain('mqtt.connectTimeout');
    expect(p).toContain('site.timezone');
    expect(p).toContain('homes[2].timezone');
    expect(p).toContain('homes[1].devices[0].id');
    expect(p).toContain('staff[0].grids');
    expect(p).toContain('homes[0].devices[0].demoSecret');
    expect(p).toContain('homes[2].devices[3].demoSecret');
    expect(ps.find((x) => x.path === 'colour')?.message).toMatch(/unknown/i);
    expect(ps.find((x) => x.path === 'homes[1].devices[0].id')?.message).toContain('h1-sos');
    expect(ps.find((x) => x.path === 'site.timezone')?.message).toMatch(/time ?zone/i);
    // one problem per line, nothing invented
    expect(new Set(p).size).toBe(p.length);
  });

  it('reports the cross-checks (duplicate ids, duty grids, demoSecret) also when a field elsewhere has a wrong type', () => {
    // check-config promises every problem in one run: an operator should not fix one line only to be told of the next
    const raw = demoRaw();
    raw.mqtt.port = 'eighteen-eighty-three';
    raw.homes[1].devices[0].id = 'h1-sos';
    raw.staff[0].grids = [];
    const p = paths(problems(raw));
    expect(p).toContain('mqtt.port');
    expect(p).toContain('homes[1].devices[0].id');
    expect(p).toContain('staff[0].grids');
  });

  it('refuses other cross-references: unknown grid of a staff member, a Zigbee device without its gateway, ids used twice', () => {
    const raw = demoRaw();
    raw.staff[0].grids = ['g1', 'g9'];
    raw.homes[0].devices[1].zigbee = { gateway: 'gw-missing', friendlyName: 'front door' };
    raw.homes[2].id = 'h1';
    raw.staff[2].id = 'duty1';
    raw.homes[1].residents[0].id = 'r1';
    const ps = problems(raw);
    expect(paths(ps)).toEqual(
      expect.arrayContaining([
        'staff[0].grids[1]',
        'homes[0].devices[1].zigbee.gateway',
        'homes[2].id',
        'staff[2].id',
        'homes[1].residents[0].id',
      ]),
    );
  });

  it('refuses a configuration that is not an object, or lacks staff (homes may come later, through the admin API)', () => {
    expect(problems('homes: []').length).toBeGreaterThan(0);
    const p = paths(problems({ site: { name: 'x', timezone: 'Asia/Shanghai' }, homes: [], staff: [] }));
    expect(p).toEqual(['staff']);
  });

  describe('environment overrides', () => {
    it('apply ports, data dir, log level and clock over the file', () => {
      const raw = demoRaw();
      const cfg = parseConfig(raw, {
        CAREHUB_MQTT_PORT: '0',
        CAREHUB_HTTP_PORT: '18080',
        CAREHUB_DATA_DIR: '/tmp/carehub-x',
        CAREHUB_LOG_LEVEL: 'warn',
        CAREHUB_CLOCK: 'manual',
      });
      expect(cfg.mqtt.port).toBe(0);
      expect(cfg.http.port).toBe(18080);
      expect(cfg.dataDir).toBe('/tmp/carehub-x');
      expect(cfg.log.level).toBe('warn');
      expect(cfg.clock).toBe('manual');
      // the raw document is not changed
      expect(raw.mqtt.port).toBe(1883);
      expect(raw.dataDir).toBe('./data/demo');
    });

    it('ignore empty variables and leave the file values', () => {
      const cfg = parseConfig(demoRaw(), { CAREHUB_MQTT_PORT: '', CAREHUB_DATA_DIR: '' });
      expect(cfg.mqtt.port).toBe(1883);
      expect(cfg.dataDir).toBe('./data/demo');
    });

    it('configure InfluxDB 1.x or 2.x from the environment', () => {
      const v1 = parseConfig(demoRaw(), {
        CAREHUB_INFLUX_URL: 'http://127.0.0.1:8086',
        CAREHUB_INFLUX_DB: 'carehub',
        CAREHUB_INFLUX_USER: 'u',
      });
      expect(v1.influx).toMatchObject({ url: 'http://127.0.0.1:8086', database: 'carehub', username: 'u' });
      const v2 = parseConfig(demoRaw(), {
        CAREHUB_INFLUX_URL: 'http://127.0.0.1:8086',
        CAREHUB_INFLUX_ORG: 'o',
        CAREHUB_INFLUX_BUCKET: 'b',
        CAREHUB_INFLUX_TOKEN: 't',
      });
      expect(v2.influx).toMatchObject({ org: 'o', bucket: 'b', token: 't' });
      expect(
        paths(
          problems(demoRaw(), { CAREHUB_INFLUX_URL: 'http://127.0.0.1:8086', CAREHUB_INFLUX_ORG: 'o' }),
        ).some((p) => p.startsWith('influx')),
      ).toBe(true);
    });

    it('report a bad port by the variable name, together with the other problems', () => {
      // ' ' must not silently become 0 (= any free port), nor '0x50' port 80
      for (const bad of ['abc', '70000', '-1', '1.5', '0x50', '1e3', ' ']) {
        const ps = problems(demoRaw(), { CAREHUB_MQTT_PORT: bad });
        expect(paths(ps), JSON.stringify(bad)).toEqual(['$CAREHUB_MQTT_PORT']);
        expect(ps[0]?.message).toContain(`"${bad}"`);
      }
      const raw = demoRaw();
      raw.site.timezone = 'Nowhere/Special';
      const p = paths(problems(raw, { CAREHUB_HTTP_PORT: '99999', CAREHUB_MQTT_PORT: 'x' }));
      expect(p).toEqual(
        expect.arrayContaining(['$CAREHUB_MQTT_PORT', '$CAREHUB_HTTP_PORT', 'site.timezone']),
      );
    });

    it('report a bad log level or clock by the variable name that set it', () => {
      const ps = problems(demoRaw(), { CAREHUB_LOG_LEVEL: 'verbose', CAREHUB_CLOCK: 'fast' });
      const text = ps.map((p) => `${p.path}: ${p.message}`).join('\n');
      expect(text).toContain('CAREHUB_LOG_LEVEL');
      expect(text).toContain('CAREHUB_CLOCK');
    });
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'carehub-config-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('reports YAML syntax errors and duplicate keys by line', () => {
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, 'site:\n  name: x\n  name: y\nhomes: [\n');
      try {
        loadConfigFile(file);
        expect.unreachable();
      } catch (err) {
        expect((err as HubError).code).toBe('HUB_ERR_CONFIG_INVALID');
        const ps = problemsOf(err);
        expect(ps.length).toBeGreaterThan(0);
        expect(ps.every((p) => /^line \d+, column \d+$/.test(p.path) || p.path === '(yaml)')).toBe(true);
        expect(ps.some((p) => p.path.startsWith('line 3'))).toBe(true);
      }
    });

    it('reports an unreadable file with its own code', () => {
      expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(
        expect.objectContaining({ code: 'HUB_ERR_CONFIG_UNREADABLE' }),
      );
    });
  });
});

describe('CAREHUB_INFLUX_* over a file section', () => {
  it('replaces the connection and keeps the tuning from the file', async () => {
    const { parseConfig } = await import('../../hub/src/config/load.js');
    const { demoRaw } = await import('../helpers/hub.js');
    const cfg = parseConfig(
      {
        ...demoRaw(),
        influx: { url: 'http://db.example:8086', org: 'o', bucket: 'b', token: 't', batchSize: 77 },
      },
      { CAREHUB_INFLUX_URL: 'http://127.0.0.1:8086', CAREHUB_INFLUX_DB: 'carehub' },
    );
    expect(cfg.influx).toMatchObject({ url: 'http://127.0.0.1:8086', database: 'carehub', batchSize: 77 });
    expect(cfg.influx?.token).toBeUndefined();
  });
  it("never prints a robot's or a webhook's key that sits in its URL", () => {
    const raw = demoRaw();
    raw.notifications = {
      publicUrl: 'https://carehub.example.org',
      wecom: {
        url: 'http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa',
      },
      webhook: { url: 'ftp://user:pa55word@example.org/hook?access_token=abcdef123456', secret: 'whsec_x' },
    };
    const ps = problems(raw);
    const text = JSON.stringify(ps);
    expect(ps.length).toBeGreaterThan(0);
    expect(text).not.toContain('693a91f6');
    expect(text).not.toContain('pa55word');
    expect(text).not.toContain('abcdef123456');
    expect(text).toContain('hidden');
  });
});
