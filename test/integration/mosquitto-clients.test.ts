import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../hub/src/auth/secrets.js';
import { FeedClient } from '../helpers/feed-client.js';
import { api, demoRaw, deviceEvents, login, startHub, type TestHub } from '../helpers/hub.js';

const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';

interface Alert {
  id: string;
  kind: string;
  homeId: string;
  deviceId: string;
  occurrences: number;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The Debian mosquitto-clients, used the way a device maker would try a pendant's firmware settings
 * against the hub. Each device has one MQTT identity (client id = device id), so a second SOS button
 * in home h1 (h1-wall) stands in for a second press while mosquitto_sub holds h1-sos's connection.
 */
describe('mosquitto-clients against the hub', () => {
  const children = new Set<ChildProcess>();
  let t: TestHub | undefined;
  let wallHash = '';

  beforeAll(async () => {
    for (const bin of [MOSQUITTO_PUB, MOSQUITTO_SUB]) {
      if (!existsSync(bin)) {
        throw new Error(
          `${bin} is missing: install the Debian package mosquitto-clients (CI does; this test never skips)`,
        );
      }
    }
    wallHash = await hashSecret('h1-wall-demo');
  });

  afterEach(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
    await t?.stop();
    t = undefined;
  });

  async function hub(): Promise<TestHub> {
    const raw = demoRaw();
    const homes = raw.homes as Array<{ id: string; devices: Array<Record<string, unknown>> }>;
    homes[0]?.devices.push({
      id: 'h1-wall',
      kind: 'sos_button',
      label: 'Wall button',
      secretHash: wallHash,
      demoSecret: 'h1-wall-demo',
    });
    t = await startHub({ raw });
    return t;
  }

  /** Start a mosquitto client; `done` settles when it exits (killed after `timeoutMs`). */
  function start(
    bin: string,
    args: string[],
    timeoutMs = 10_000,
  ): { child: ChildProcess; out: () => string; done: Promise<Run> } {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = new Promise<Run>((resolve) => {
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ code: -1, signal: null, stdout, stderr: `${stderr}${err.message}` });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return { child, out: () => stdout, done };
  }

  function connArgs(h: TestHub, deviceId: string, password = `${deviceId}-demo`): string[] {
    return [
      '-h',
      '127.0.0.1',
      '-p',
      String(h.hub.ports.mqtt),
      '-V',
      'mqttv311',
      '-i',
      deviceId,
      '-u',
      deviceId,
      '-P',
      password,
    ];
  }

  function pub(h: TestHub, deviceId: string, message: string, password?: string): Promise<Run> {
    const topic = `carehub/v1/devices/${deviceId}/events`;
    return start(MOSQUITTO_PUB, [...connArgs(h, deviceId, password), '-q', '1', '-t', topic, '-m', message])
      .done;
  }

  it('mosquitto_pub -q 1 as h1-sos: the press becomes an alert on the duty feed', async () => {
    const h = await hub();
    const feed = await FeedClient.connect(h.wsUrl, await login(h.httpUrl, 'duty1'));
    try {
      const run = await pub(h, 'h1-sos', JSON.stringify({ type: 'sos.pressed', id: 'mosq-1', battery: 88 }));
      expect(run, run.stderr).toMatchObject({ code: 0 });
      const msg = await feed.next((m) => m.type === 'alert' && (m.alert as Alert).kind === 'sos');
      expect(msg.alert).toMatchObject({
        kind: 'sos',
        homeId: 'h1',
        deviceId: 'h1-sos',
        occurrences: 1,
        status: 'open',
      });
      expect(
        deviceEvents(h.hub)
          .filter((e) => e.deviceId === 'h1-sos' && e.type === 'sos.pressed')
          .map((e) => e.eventId),
      ).toEqual(['mosq-1']);
    } finally {
      await feed.close();
    }
  });

  it('mosquitto_sub as h1-sos on its commands topic hears alert.acknowledged and alert.resolved; the wall button that pressed second is told too', async () => {
    const h = await hub();
    const first = await pub(h, 'h1-sos', JSON.stringify({ type: 'sos.pressed', id: 'p1' }));
    expect(first, first.stderr).toMatchObject({ code: 0 });
    const supervisor = await login(h.httpUrl, 'supervisor1');
    const alertId = await (async () => {
      for (let i = 0; i < 50; i++) {
        const res = await api<{ alerts: Alert[] }>(h.httpUrl, supervisor, '/api/v1/alerts?kind=sos');
        const found = res.body.alerts.find((a) => a.homeId === 'h1');
        if (found) return found.id;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no SOS alert for h1');
    })();

    // the hub's broker tells when h1-sos's subscription is in place (mosquitto_sub's own output is block-buffered in a pipe)
    const subscribed = new Promise<void>((resolve) => {
      const onSubscribe = (subs: Array<{ topic: string }>, client: { id: string } | null) => {
        if (client?.id === 'h1-sos' && subs.some((s) => s.topic === 'carehub/v1/devices/h1-sos/commands')) {
          h.hub.broker.aedes.off('subscribe', onSubscribe);
          resolve();
        }
      };
      h.hub.broker.aedes.on('subscribe', onSubscribe);
    });
    const sub = start(
      MOSQUITTO_SUB,
      [
        ...connArgs(h, 'h1-sos'),
        '-q',
        '1',
        '-t',
        'carehub/v1/devices/h1-sos/commands',
        '-C',
        '2',
        '-W',
        '15',
      ],
      20_000,
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      subscribed,
      sub.done.then((r) => {
        throw new Error(`mosquitto_sub exited before subscribing: ${r.code} ${r.stderr}`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('mosquitto_sub did not subscribe within 5 s')), 5000);
      }),
    ]).finally(() => clearTimeout(timer));

    // the resident presses the wall button too: merged into the open alert; the wall button hears "received"
    const wallHeard: Array<Record<string, unknown>> = [];
    const onPublish = (packet: { topic: string; payload: Buffer }) => {
      if (packet.topic === 'carehub/v1/devices/h1-wall/commands')
        wallHeard.push(JSON.parse(packet.payload.toString()) as Record<string, unknown>);
    };
    const bus = h.hub.broker.aedes as unknown as NodeJS.EventEmitter;
    bus.on('publish', onPublish);
    const second = await pub(h, 'h1-wall', JSON.stringify({ type: 'sos.pressed', id: 'w1' }));
    expect(second, second.stderr).toMatchObject({ code: 0 });
    const duty = await login(h.httpUrl, 'duty1');
    const ack = await api(h.httpUrl, duty, `/api/v1/alerts/${alertId}/ack`, { body: {} });
    expect(ack.status).toBe(200);
    const resolved = await api(h.httpUrl, duty, `/api/v1/alerts/${alertId}/resolve`, {
      body: { outcome: 'genuine' },
    });
    expect(resolved.status).toBe(200);

    const run = await sub.done;
    expect(run.code, run.stderr).toBe(0);
    const received = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(received).toEqual([
      { type: 'alert.acknowledged', alertId, by: '刘洋 (Liu Yang)' },
      { type: 'alert.resolved', alertId },
    ]);
    bus.off('publish', onPublish);
    expect(wallHeard.map((m) => m.type)).toEqual(['alert.received', 'alert.acknowledged', 'alert.resolved']);
    const alert = (await api<{ alert: Alert }>(h.httpUrl, supervisor, `/api/v1/alerts/${alertId}`)).body
      .alert;
    expect(alert.occurrences).toBe(2);
  });

  it('mosquitto_pub with a wrong password is refused and exits non-zero; nothing is stored', async () => {
    const h = await hub();
    const run = await pub(
      h,
      'h1-sos',
      JSON.stringify({ type: 'sos.pressed', id: 'bad-pw' }),
      'not-the-secret',
    );
    expect(run.signal).toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/refused|not authori[sz]ed|bad user name or password/i);
    expect(deviceEvents(h.hub)).toEqual([]);
  });

  it('mosquitto_pub of a malformed event is acknowledged (exit 0) and counted, not a disconnect loop', async () => {
    const h = await hub();
    const run = await pub(h, 'h1-sos', '{"type":"sos.pressed","battery":"full"}');
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^carehub_ingest_rejected_total\{reason="invalid_payload"\} 1$/m);
  });
});
