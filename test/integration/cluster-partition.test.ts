import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ClusterHub,
  healthOf,
  login,
  SECRET,
  startClusterHub,
  writeClusterConfig,
} from '../helpers/cluster-harness.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { FeedClient, type FeedMessage } from '../helpers/feed-client.js';
import { NatsCluster, natsServerInstalled } from '../helpers/nats-cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A network partition between the leader hub and every NATS server (its three links go through
 * fault proxies that swallow every byte; the servers advertise no other address). The cut-off
 * leader answers /healthz 503 and steps down; the other node leads, and never both at once; an SOS
 * sent to the other node meanwhile is alerted there; once the links are back the cut-off node
 * catches up (the SOS is in its state too) and answers 200 again.
 */
describe('cluster: the leader cut off from NATS', () => {
  const cleanup: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  });

  it('steps down (never two leaders), the other node leads and takes alarms; it catches up when the network is back', {
    timeout: 120_000,
  }, async () => {
    if (!natsServerInstalled()) throw new Error('nats-server is missing: apt-get install nats-server');
    const dir = mkdtempSync(join(tmpdir(), 'carehub-partition-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const nats = await NatsCluster.start(dir, 3, { noAdvertise: true });
    cleanup.push(() => nats.stop());
    const proxies = await Promise.all(nats.servers.map((s) => FaultProxy.start(s.port)));
    cleanup.push(() => Promise.all(proxies.map((p) => p.stop())));
    const config = await writeClusterConfig(dir, 3);

    const a: ClusterHub = await startClusterHub(
      config,
      join(dir, 'hub-a'),
      proxies.map((p) => `nats://127.0.0.1:${p.port}`),
      'hub-a',
    );
    cleanup.push(() => a.child.kill('SIGKILL'));
    await expect
      .poll(async () => (await healthOf(a.httpUrl))?.cluster?.leader, { timeout: 15_000 })
      .toBe('hub-a');
    const b: ClusterHub = await startClusterHub(config, join(dir, 'hub-b'), nats.urls, 'hub-b');
    cleanup.push(() => b.child.kill('SIGKILL'));
    await expect
      .poll(async () => (await healthOf(b.httpUrl))?.cluster?.leader, { timeout: 15_000 })
      .toBe('hub-a');

    // Who says it leads, sampled every 50 ms from both nodes' own view.
    let both = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [ha, hb] = await Promise.all([healthOf(a.httpUrl), healthOf(b.httpUrl)]);
        if (ha?.cluster?.leader === 'hub-a' && hb?.cluster?.leader === 'hub-b') both++;
        await sleep(50);
      }
    })();

    const cutAt = Date.now();
    for (const p of proxies) p.blackhole(true);
    await expect
      .poll(
        async () =>
          await fetch(`${a.httpUrl}/healthz`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 20_000 },
      )
      .toBe(503);
    const unavailableMs = Date.now() - cutAt;
    await expect
      .poll(async () => (await healthOf(b.httpUrl))?.cluster?.leader, { timeout: 20_000 })
      .toBe('hub-b');
    const takeoverMs = Date.now() - cutAt;

    // Alarms keep flowing on the node that reaches NATS.
    const token = await login(b.httpUrl, 'sup');
    const feedB = await FeedClient.connect(`ws://127.0.0.1:${b.ports.http}`, token);
    cleanup.push(() => feedB.close());
    const device = mqtt.connect(b.mqttUrl, {
      clientId: 'k001-sos',
      username: 'k001-sos',
      password: SECRET,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    cleanup.push(() => device.end(true));
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve());
      device.once('error', reject);
    });
    await device.publishAsync(
      'carehub/v1/devices/k001-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'cut-1' }),
      {
        qos: 1,
      },
    );
    const isSos = (m: FeedMessage) => m.type === 'alert' && (m.alert as { homeId: string }).homeId === 'k001';
    const onB = await feedB.next(isSos, 10_000);

    // The network is back: a catches up and serves again.
    for (const p of proxies) p.blackhole(false);
    for (const p of proxies) p.resetAll();
    await expect
      .poll(
        async () =>
          await fetch(`${a.httpUrl}/healthz`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 30_000 },
      )
      .toBe(200);
    const applied = (await healthOf(b.httpUrl))?.cluster?.applied ?? 0;
    await expect
      .poll(async () => (await healthOf(a.httpUrl))?.cluster?.applied ?? 0, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(applied);
    const feedA = await FeedClient.connect(`ws://127.0.0.1:${a.ports.http}`, token);
    cleanup.push(() => feedA.close());
    const snapshot = feedA.messages.find((m) => m.type === 'snapshot') as FeedMessage & {
      alerts: Array<{ id: string }>;
    };
    expect(snapshot.alerts.map((x) => x.id)).toContain((onB.alert as { id: string }).id);

    sampling = false;
    await sampler;
    expect(both).toBe(0);
    console.log(
      `partition: the cut-off leader answered 503 after ${unavailableMs} ms; the other node led after ${takeoverMs} ms; never two leaders`,
    );
  });
});
