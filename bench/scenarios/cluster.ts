import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { deviceTopics } from '../../hub/src/protocol/topics.js';
import { NatsCluster } from '../../test/helpers/nats-cluster.js';
import type { Ctx } from '../lib/context.js';
import { type HubChild, hubHealth, startHub } from '../lib/hub-child.js';
import { FeedWatcher, login, Publishers, probeSos } from '../lib/probe.js';
import { CpuMeter, monoMs, sleep } from '../lib/proc.js';
import { BENCH_SCRYPT_N, generateSite, type Site } from '../lib/site.js';
import { round, summarize } from '../lib/stats.js';

export interface ClusterParams {
  /** Door sensors publishing the throughput load, spread over the nodes. */
  loadDevices: number;
  /** Publishes in flight per device (QoS 1, each waits for its PUBACK). */
  window: number;
  seconds: number;
  /** SOS probes: one every probeEveryMs for probeSeconds, beside backgroundRate door events/s. */
  probeSeconds: number;
  probeEveryMs: number;
  backgroundRate: number;
}

interface Measured {
  eventsPerSecond: number;
  /** CPU µs per durable event, per hub process and per NATS server. */
  hubCpuUsPerEvent: number[];
  natsCpuUsPerEvent: number[];
  sos: ReturnType<typeof summarize>;
  lost: number;
}

/** The load devices, connected round-robin to the targets. */
async function connectLoad(site: Site, targets: HubChild[], n: number): Promise<MqttClient[]> {
  return Promise.all(
    site.loadIds.slice(0, n).map(async (id, i) => {
      const port = (targets[i % targets.length] as HubChild).mqttPort;
      const client = new MqttClient(
        () => netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' }),
        {
          clientId: id,
          username: id,
          password: site.secret,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 60_000,
        },
      );
      client.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    }),
  );
}

/** Each client keeps `window` QoS 1 door events in flight until `stop()`; counts the PUBACKs. */
function saturate(clients: MqttClient[], window: number): { acked: () => number; stop: () => Promise<void> } {
  let acked = 0;
  let stopped = false;
  const loops = clients.map(async (client, i) => {
    const topic = deviceTopics(client.options.clientId as string).events;
    let n = 0;
    const one = async (): Promise<void> => {
      while (!stopped) {
        n++;
        const type = n % 2 === 0 ? 'door.closed' : 'door.opened';
        await client.publishAsync(
          topic,
          JSON.stringify({ type, id: `b${i}-${n}-${Math.random().toString(36).slice(2, 8)}` }),
          {
            qos: 1,
          },
        );
        acked++;
      }
    };
    await Promise.all(Array.from({ length: window }, one)).catch(() => {});
  });
  return {
    acked: () => acked,
    stop: async () => {
      stopped = true;
      await Promise.race([Promise.all(loops), sleep(10_000)]);
    },
  };
}

/** A steady `rate` events/s over the clients (fire and forget, QoS 1). */
function background(clients: MqttClient[], rate: number): () => void {
  let i = 0;
  const perTick = Math.max(1, Math.round(rate / 20));
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      const client = clients[i++ % clients.length] as MqttClient;
      const topic = deviceTopics(client.options.clientId as string).events;
      client.publish(topic, JSON.stringify({ type: 'door.opened', id: `bg-${i}-${Date.now()}` }), { qos: 1 });
    }
  }, 50);
  return () => clearInterval(timer);
}

async function measure(
  ctx: Ctx,
  p: ClusterParams,
  site: Site,
  hubs: HubChild[],
  natsPids: number[],
  label: string,
): Promise<Measured> {
  const clients = await connectLoad(site, hubs, p.loadDevices);
  const load = saturate(clients, p.window);
  await sleep(2000);
  const meters = hubs.map((h) => new CpuMeter(h.pid).start());
  const natsMeters = natsPids.map((pid) => new CpuMeter(pid).start());
  const from = load.acked();
  const t0 = monoMs();
  await sleep(p.seconds * 1000);
  const events = load.acked() - from;
  const seconds = (monoMs() - t0) / 1000;
  const hubCpu = meters.map((m) => m.read().cpuUs);
  const natsCpu = natsMeters.map((m) => m.read().cpuUs);
  await load.stop();
  ctx.log(`cluster scenario, ${label}: ${Math.round(events / seconds)} durable events/s`);

  // SOS probes: pressed on the first node, seen on the feed of the last (the same hub alone).
  const token = await login((hubs.at(-1) as HubChild).httpUrl, site.staff.username, site.staff.password);
  const watcher = await FeedWatcher.connect((hubs.at(-1) as HubChild).wsUrl, token);
  const pubs = await Publishers.connect(
    (hubs[0] as HubChild).mqttPort,
    site.probeIds.slice(0, 20),
    site.secret,
  );
  const stopBackground = background(clients, p.backgroundRate);
  const probe = await probeSos(pubs, watcher, p.probeSeconds * 1000, p.probeEveryMs);
  stopBackground();
  await pubs.close();
  await watcher.close();
  await Promise.all(clients.map((c) => c.endAsync(true)));
  return {
    eventsPerSecond: events / seconds,
    hubCpuUsPerEvent: hubCpu.map((us) => us / Math.max(1, events)),
    natsCpuUsPerEvent: natsCpu.map((us) => us / Math.max(1, events)),
    sos: summarize(probe.latencies),
    lost: probe.lost,
  };
}

/**
 * Scenario 8: the same site and load on one hub and on three hub nodes on a three-server NATS
 * JetStream cluster (R3), in the same run. Durable events/s: QoS 1 door events PUBACKed (on the
 * cluster: stored by a quorum), the load spread over the nodes; SOS p99: a press on the first node
 * to its alert on the last node's feed; CPU per durable event of each process.
 */
export async function clusterScenario(ctx: Ctx, p: ClusterParams): Promise<void> {
  const site = await generateSite({
    dir: join(ctx.tmp, 'cluster-site'),
    loadDevices: p.loadDevices,
    scryptN: BENCH_SCRYPT_N,
    kinds: ['door_sensor'],
    logLevel: 'warn',
  });
  const single = await startHub({
    configFile: site.configFile,
    dataDir: join(ctx.tmp, 'cluster-single-data'),
    logFile: join(ctx.tmp, 'cluster-single.log'),
  });
  let alone: Measured;
  try {
    alone = await measure(ctx, p, site, [single], [], 'one hub');
  } finally {
    await single.stop();
  }

  const nats = await NatsCluster.start(join(ctx.tmp, 'cluster-nats'));
  const hubs: HubChild[] = [];
  let three: Measured;
  try {
    for (const node of ['a', 'b', 'c'])
      hubs.push(
        await startHub({
          configFile: site.configFile,
          dataDir: join(ctx.tmp, `cluster-${node}-data`),
          logFile: join(ctx.tmp, `cluster-${node}.log`),
          cpuProfDir: ctx.profile ? join(ctx.tmp, 'profiles', `cluster-${node}`) : undefined,
          env: { CAREHUB_NATS_URL: nats.urls.join(','), CAREHUB_NODE_ID: `bench-${node}` },
        }),
      );
    const health = await hubHealth((hubs[0] as HubChild).httpUrl);
    ctx.log(`cluster scenario: 3 nodes up, ${JSON.stringify(health.cluster)}`);
    three = await measure(ctx, p, site, hubs, nats.pids(), 'three nodes');
  } finally {
    for (const h of hubs) await h.stop();
    await nats.stop();
  }

  const us = (xs: number[]) => xs.map((x) => String(round(x, 0))).join(' / ');
  const ref = 'one hub';
  ctx.figures.push(
    {
      scenario: '8',
      name: 'durable events/s, three nodes (R3) vs one hub',
      unit: 'events/s',
      hub: round(three.eventsPerSecond, 0),
      reference: round(alone.eventsPerSecond, 0),
      referenceName: ref,
      ratio: three.eventsPerSecond / alone.eventsPerSecond,
      note: `${p.loadDevices} door sensors, ${p.window} QoS 1 publishes in flight each, spread over the nodes; PUBACK after a quorum stored it`,
    },
    {
      scenario: '8',
      name: 'SOS p99, press on node A → feed of node C',
      unit: 'ms',
      hub: round(three.sos.p99, 1),
      reference: round(alone.sos.p99, 1),
      referenceName: ref,
      ratio: three.sos.p99 / alone.sos.p99,
      note: `p50 ${round(three.sos.p50, 1)} vs ${round(alone.sos.p50, 1)} ms, ${three.sos.n} presses (${three.lost} lost) beside ${p.backgroundRate} events/s`,
    },
    {
      scenario: '8',
      name: 'CPU per durable event, each hub node',
      unit: 'µs',
      hub: us(three.hubCpuUsPerEvent),
      reference: us(alone.hubCpuUsPerEvent),
      referenceName: ref,
      note: 'every node applies every event; the node that received it also ran MQTT and the publish',
    },
    {
      scenario: '8',
      name: 'CPU per durable event, each NATS server',
      unit: 'µs',
      hub: us(three.natsCpuUsPerEvent),
      reference: null,
      referenceName: ref,
    },
  );
  ctx.details.cluster = { params: p, alone, three };
}
