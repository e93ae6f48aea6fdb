import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseConfig } from '../../hub/src/config/load.js';
import { isHubError } from '../../hub/src/errors.js';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import { demoRaw, startHub, type TestHub } from '../helpers/hub.js';

/**
 * MQTT over TLS and HTTPS/WSS from PEM files, the plaintext switches, and mutual TLS: with a
 * certificate authority and certificates made here by the `openssl` CLI (P-256, one day).
 */

interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

let dir = '';
const pem = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref(),
    ),
  ]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'carehub-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-subj',
    '/CN=localhost',
    '-days',
    '1',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    'key.pem',
    '-out',
    'cert.pem',
  );
  // a client CA and a device certificate signed by it (mutual TLS)
  openssl(
    'req',
    '-x509',
    ...ec,
    '-subj',
    '/CN=carehub-test-ca',
    '-days',
    '1',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  openssl('req', ...ec, '-subj', '/CN=h1-sos', '-keyout', 'client.key', '-out', 'client.csr');
  openssl(
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    'client.pem',
  );
  // and one from a stranger
  openssl(
    'req',
    '-x509',
    ...ec,
    '-subj',
    '/CN=h1-sos',
    '-days',
    '1',
    '-keyout',
    'stranger.key',
    '-out',
    'stranger.pem',
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  const cleanup = useCleanup();

  async function tlsHub(
    mqttTls: Record<string, unknown>,
    httpTls: Record<string, unknown> = {},
  ): Promise<{ t: TestHub; lines: LogLine[]; ports: Record<string, number> }> {
    const raw = demoRaw();
    raw.mqtt = { ...((raw.mqtt as object | undefined) ?? {}), ...mqttTls };
    raw.http = { ...((raw.http as object | undefined) ?? {}), ...httpTls };
    const lines: LogLine[] = [];
    const stream = {
      write(s: string) {
        for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      },
    };
    const t = await startHub({ raw, logger: createLogger('info', stream) });
    cleanup.push(() => t.stop());
    const ports = JSON.parse(readFileSync(join(t.dataDir, 'ports.json'), 'utf8')) as Record<string, number>;
    return { t, lines, ports };
  }

  const files = () => ({ cert: pem('cert.pem'), key: pem('key.pem') });

  async function device(url: string, id: string, options: IClientOptions = {}): Promise<MqttClient> {
    const c = mqtt.connect(url, {
      clientId: id,
      username: id,
      password: `${id}-demo`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    cleanup.push(() => c.endAsync(true));
    await within(
      new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
        c.once('close', () => reject(new Error('closed before CONNACK')));
      }),
      6000,
      `${id} connect`,
    );
    return c;
  }

  /** HTTPS request trusting the test certificate. */
  function https(
    port: number,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method: body === undefined ? 'GET' : 'POST',
          ca: readFileSync(pem('cert.pem')),
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** The headers of a HEAD request over HTTPS (for answers that are not JSON). */
  function httpsHead(port: number, path: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path, method: 'HEAD', ca: readFileSync(pem('cert.pem')) },
        (res) => {
          res.resume();
          resolve(res.headers);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('serves MQTT over TLS and HTTPS/WSS from PEM files beside plaintext; ports.json gains mqtts and https', async () => {
    const { t, lines, ports } = await tlsHub(
      { tls: { ...files(), port: 0 } },
      { tls: { ...files(), port: 0 } },
    );
    expect(Object.keys(ports).sort()).toEqual(['http', 'https', 'mqtt', 'mqttWs', 'mqtts']);
    expect(ports.mqtts).toBe(t.hub.ports.mqtts);
    expect(ports.https).toBeGreaterThan(0);

    // staff over HTTPS and WSS
    const login = await https(ports.https as number, '/api/v1/login', {
      username: 'supervisor1',
      password: 'supervisor1-demo',
    });
    expect(login.status).toBe(200);
    const token = (login.body as { token: string }).token;
    const ws = new WebSocket(`wss://127.0.0.1:${ports.https}/api/v1/feed`, {
      headers: { authorization: `Bearer ${token}` },
      ca: readFileSync(pem('cert.pem')),
    });
    cleanup.push(() => ws.terminate());
    const alerts: Array<{ kind: string; homeId: string }> = [];
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; alert?: { kind: string; homeId: string } };
      if (msg.type === 'alert' && msg.alert) alerts.push(msg.alert);
    });
    await within(new Promise((r) => ws.once('open', r)), 5000, 'wss open');

    // a device over MQTT/TLS, trusting the hub's certificate
    const pendant = await device(`mqtts://127.0.0.1:${ports.mqtts}`, 'h1-sos', {
      ca: readFileSync(pem('cert.pem')),
    });
    await pendant.publishAsync(
      'carehub/v1/devices/h1-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'tls-1' }),
      { qos: 1 },
    );
    await expect
      .poll(() => alerts, { timeout: 5000 })
      .toEqual([expect.objectContaining({ kind: 'sos', homeId: 'h1' })]);
    // and MQTT over WSS on the HTTPS port
    const wssDevice = await device(`wss://127.0.0.1:${ports.https}/mqtt`, 'h2-sos', {
      ca: readFileSync(pem('cert.pem')),
    });
    expect(wssDevice.connected).toBe(true);

    // a client that does not trust the certificate is refused; so is plaintext on the TLS port
    await expect(device(`mqtts://127.0.0.1:${ports.mqtts}`, 'h3-sos')).rejects.toThrow(
      /self[- ]signed|certificate/i,
    );
    const plain = netConnect({ host: '127.0.0.1', port: ports.mqtts as number });
    plain.on('error', () => {});
    cleanup.push(() => plain.destroy());
    plain.write(
      Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x1e, 0x00, 0x00]),
    );
    await within(new Promise((r) => plain.once('close', r)), 5000, 'plaintext on the TLS port closed');
    await expect
      .poll(() => lines.some((l) => l.msg === 'mqtt TLS handshake failed'), { timeout: 3000 })
      .toBe(true);
    // no private key material in the log
    const key = readFileSync(pem('key.pem'), 'utf8').split('\n')[1] as string;
    expect(lines.some((l) => JSON.stringify(l).includes(key.slice(0, 40)))).toBe(false);
  });

  it('mqtt.plaintext: false opens no plaintext MQTT listener, and refuses MQTT over plain WebSocket', async () => {
    const { t, ports } = await tlsHub(
      { tls: { ...files(), port: 0 }, plaintext: false },
      { tls: { ...files(), port: 0 } },
    );
    expect(Object.keys(ports).sort()).toEqual(['http', 'https', 'mqttWs', 'mqtts']);
    expect(t.hub.ports.mqtt).toBe(0);
    // MQTT over ws:// (plain HTTP) is refused at the upgrade; over wss:// it is served
    const ws = new WebSocket(`ws://127.0.0.1:${ports.http}/mqtt`, 'mqtt');
    cleanup.push(() => ws.terminate());
    const status = await within(
      new Promise<number>((resolve) => {
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('error', () => resolve(-1));
      }),
      5000,
      'refusal',
    );
    expect(status).toBe(403);
    const ok = await device(`wss://127.0.0.1:${ports.https}/mqtt`, 'h1-sos', {
      ca: readFileSync(pem('cert.pem')),
    });
    expect(ok.connected).toBe(true);
    const tls = await device(`mqtts://127.0.0.1:${ports.mqtts}`, 'h2-sos', {
      ca: readFileSync(pem('cert.pem')),
    });
    expect(tls.connected).toBe(true);
  });

  it('http.plaintext: false serves HTTPS only, with Secure session cookies', async () => {
    const { ports } = await tlsHub({}, { tls: { ...files(), port: 0 }, plaintext: false });
    expect(Object.keys(ports).sort()).toEqual(['https', 'mqtt']);
    const login = await https(ports.https as number, '/api/v1/login', {
      username: 'duty1',
      password: 'duty1-demo',
    });
    expect(login.status).toBe(200);
    expect(String(login.headers['set-cookie'])).toMatch(/; Secure/);
    const health = await https(ports.https as number, '/healthz');
    expect(health.status).toBe(200);
  });

  it('answers over HTTPS carry HSTS and frame-ancestors; plain HTTP answers carry no HSTS', async () => {
    const { ports } = await tlsHub({}, { tls: { ...files(), port: 0 } });
    for (const path of ['/healthz', '/api/v1/alerts', '/']) {
      const headers = await httpsHead(ports.https as number, path);
      expect(String(headers['strict-transport-security']), path).toMatch(/^max-age=31536000/);
      expect(String(headers['content-security-policy']), path).toContain("frame-ancestors 'none'");
      const plain = await fetch(`http://127.0.0.1:${ports.http}${path}`);
      expect(plain.headers.get('strict-transport-security'), path).toBeNull();
    }
  });

  it('mutual TLS (mqtt.tls.ca): a device must also present a certificate signed by the CA', async () => {
    const { ports } = await tlsHub({ tls: { ...files(), ca: pem('ca.pem'), port: 0 } });
    const url = `mqtts://127.0.0.1:${ports.mqtts}`;
    const ca = readFileSync(pem('cert.pem'));
    await expect(device(url, 'h1-sos', { ca })).rejects.toThrow();
    await expect(
      device(url, 'h1-sos', {
        ca,
        cert: readFileSync(pem('stranger.pem')),
        key: readFileSync(pem('stranger.key')),
      }),
    ).rejects.toThrow();
    const ok = await device(url, 'h1-sos', {
      ca,
      cert: readFileSync(pem('client.pem')),
      key: readFileSync(pem('client.key')),
    });
    expect(ok.connected).toBe(true);
    // and the device secret is still required on top
    await expect(
      device(url, 'h2-sos', {
        ca,
        cert: readFileSync(pem('client.pem')),
        key: readFileSync(pem('client.key')),
        password: 'wrong',
      }),
    ).rejects.toThrow(/Bad username or password/i);
  });

  it('reports TLS configuration problems by path: plaintext off without tls, unreadable PEM files', async () => {
    const raw = demoRaw();
    raw.mqtt = { plaintext: false };
    raw.http = { plaintext: false };
    let err: unknown;
    try {
      parseConfig(raw);
    } catch (e) {
      err = e;
    }
    expect(isHubError(err) && err.code).toBe('HUB_ERR_CONFIG_INVALID');
    const paths = ((err as { details: Array<{ path: string }> }).details ?? []).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['mqtt.tls', 'http.tls']));

    await expect(
      tlsHub({ tls: { cert: pem('nope.pem'), key: pem('key.pem'), port: 0 } }),
    ).rejects.toMatchObject({
      code: 'HUB_ERR_CONFIG_UNREADABLE',
      message: expect.stringContaining('mqtt.tls.cert'),
    });
    await expect(
      tlsHub({}, { tls: { cert: pem('cert.pem'), key: pem('ca.srl'), port: 0 } }),
    ).rejects.toMatchObject({
      code: 'HUB_ERR_CONFIG_UNREADABLE',
      message: expect.stringContaining('http.tls.key'),
    });
  });
});
