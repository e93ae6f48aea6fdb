import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterHub,
  digestsAtLogEnd,
  healthOf,
  login,
  readLog,
  SECRET,
  startClusterHub,
  writeClusterConfig,
} from '../helpers/cluster-harness.js';
import { FeedClient, type FeedMessage } from '../helpers/feed-client.js';
import { spawnHubProcess } from '../helpers/hub-process.js';
import { NatsCluster, natsServerInstalled } from '../helpers/nats-cluster.js';
import { TestReceiver } from '../helpers/notify-servers.js';

/**
 * PROTOCOL.md §8: three hub processes (the built CLI) on three real nats-server processes with
 * routes, all on loopback. An SOS sent to one node is on every node's feed with the same seq, a
 * staff action sent to another node reaches all, one node leads, and every node's state digest is
 * the same at the end of the log.
 */
describe('cluster: three hub nodes on a NATS JetStream cluster', () => {
  let dir: string;
  let nats: NatsCluster;
  let config: string;
  const hubs: ClusterHub[] = [];
  const feeds: FeedClient[] = [];

  const hook = new TestReceiver();

  beforeAll(async () => {
    if (!natsServerInstalled()) throw new Error('nats-server is missing: apt-get install nats-server');
    dir = mkdtempSync(join(tmpdir(), 'carehub-cluster-'));
    await hook.start();
    nats = await NatsCluster.start(dir);
    config = await writeClusterConfig(dir, 4, `${hook.url}/hook`);
    for (const node of ['a', 'b', 'c'])
      hubs.push(await startClusterHub(config, join(dir, `hub-${node}`), nats.urls, `hub-${node}`));
  }, 90_000);

  afterAll(async () => {
    for (const f of feeds) await f.close().catch(() => {});
    for (const h of hubs) h.child.kill('SIGKILL');
    await nats?.stop();
    await hook.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('one leader; an SOS sent to node A is on B and C with the same seq, its device command and its notification sent once; an ack on C reaches A; digests equal', {
    timeout: 60_000,
  }, async () => {
    const [a, b, c] = hubs as [ClusterHub, ClusterHub, ClusterHub];
    // One leader, known to all.
    await expect
      .poll(
        async () =>
          new Set((await Promise.all(hubs.map((h) => healthOf(h.httpUrl)))).map((x) => x?.cluster?.leader)),
        {
          timeout: 15_000,
        },
      )
      .toSatisfy(
        (leaders: Set<string | null | undefined>) =>
          leaders.size === 1 && [...leaders][0]?.startsWith('hub-') === true,
      );
    const health = await healthOf(b.httpUrl);
    expect(health?.cluster?.node).toBe('hub-b');
    expect(typeof health?.cluster?.applied).toBe('number');

    const token = await login(c.httpUrl, 'sup');
    const feedB = await FeedClient.connect(`ws://127.0.0.1:${b.ports.http}`, token);
    const feedC = await FeedClient.connect(`ws://127.0.0.1:${c.ports.http}`, token);
    feeds.push(feedB, feedC);

    const device = mqtt.connect(a.mqttUrl, {
      clientId: 'k001-sos',
      username: 'k001-sos',
      password: SECRET,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve());
      device.once('error', reject);
    });
    // Commands to the button: sent by the leader only, delivered by the node holding its connection.
    const commands: Array<{ type: string; alertId?: string }> = [];
    device.on('message', (_topic, payload) => commands.push(JSON.parse(String(payload))));
    await device.subscribeAsync('carehub/v1/devices/k001-sos/commands', { qos: 1 });
    await device.publishAsync(
      'carehub/v1/devices/k001-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'p1' }),
      {
        qos: 1,
      },
    );
    const isSos = (m: FeedMessage) => m.type === 'alert' && (m.alert as { kind: string }).kind === 'sos';
    const onB = await feedB.next(isSos, 10_000);
    const onC = await feedC.next(isSos, 10_000);
    expect(onC.seq).toBe(onB.seq);
    const alert = onB.alert as { id: string; version: number };
    expect((onC.alert as { id: string }).id).toBe(alert.id);
    await expect
      .poll(() => commands.filter((m) => m.type === 'alert.received').length, { timeout: 10_000 })
      .toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    // Once, not once per node.
    expect(commands.filter((m) => m.type === 'alert.received' && m.alertId === alert.id)).toHaveLength(1);

    // The same press again (a redelivery with the same id, to another node) is not a second occurrence.
    const device2 = mqtt.connect(b.mqttUrl, {
      clientId: 'k001-sos',
      username: 'k001-sos',
      password: SECRET,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve) => device2.once('connect', () => resolve()));
    await device2.publishAsync(
      'carehub/v1/devices/k001-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'p1' }),
      {
        qos: 1,
      },
    );

    // A staff action sent to node C, seen on a feed of node A.
    const feedA = await FeedClient.connect(`ws://127.0.0.1:${a.ports.http}`, token);
    feeds.push(feedA);
    const ack = await fetch(`${c.httpUrl}/api/v1/alerts/${alert.id}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(ack.status).toBe(200);
    const acked = await feedA.next(
      (m) =>
        m.type === 'alert' &&
        (m.alert as { id: string; status: string }).id === alert.id &&
        (m.alert as { status: string }).status === 'acknowledged',
      10_000,
    );
    const ackOnB = await feedB.next((m) => m.seq === acked.seq, 10_000);
    expect((ackOnB.alert as { status: string }).status).toBe('acknowledged');

    // An SOS nobody acknowledges: its family contact is told once (by the leader), not once per node.
    const other = mqtt.connect(b.mqttUrl, {
      clientId: 'k002-sos',
      username: 'k002-sos',
      password: SECRET,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await new Promise<void>((resolve) => other.once('connect', () => resolve()));
    await other.publishAsync(
      'carehub/v1/devices/k002-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'q1' }),
      {
        qos: 1,
      },
    );
    const unanswered = await feedB.next(
      (m) => isSos(m) && (m.alert as { homeId: string }).homeId === 'k002',
      10_000,
    );
    const told = () =>
      hook.requests.filter((r) =>
        String(r.headers['webhook-id']).startsWith(`${(unanswered.alert as { id: string }).id}.`),
      );
    await expect.poll(() => told().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 3000));
    // One delivery (one webhook-id, the receiver's idempotency key). Sent twice only when the lease
    // moved while it was on its way (the new leader cannot know it went out): then a node said so.
    expect(new Set(told().map((r) => r.headers['webhook-id'])).size).toBe(1);
    if (told().length > 1) expect(hubs.some((h) => h.output().includes('no longer the leader'))).toBe(true);
    other.end(true);

    // The admin's view of the cluster, from any node.
    const adminToken = await login(a.httpUrl, 'adm');
    const list = await fetch(`${b.httpUrl}/api/v1/cluster`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { nodes: Array<{ id: string; alive: boolean; leader: boolean }> };
    expect(body.nodes.map((n) => n.id)).toEqual(['hub-a', 'hub-b', 'hub-c']);
    expect(body.nodes.every((n) => n.alive)).toBe(true);
    expect(body.nodes.filter((n) => n.leader)).toHaveLength(1);
    const leaderId = body.nodes.find((n) => n.leader)?.id;
    const leaderHub = hubs.find((h) => h.node === leaderId) as ClusterHub;
    const metrics = await (await fetch(`${leaderHub.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^carehub_cluster_leader 1$/m);
    expect(metrics).toMatch(/^carehub_cluster_applied_position [1-9]\d*$/m);
    const notAdmin = await fetch(`${b.httpUrl}/api/v1/cluster`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(notAdmin.status).toBe(403);

    device.end(true);
    device2.end(true);

    // Stop every node at once, bring each data dir to the end of the log, compare.
    await Promise.all(
      hubs.map(async (h) => {
        h.child.kill('SIGKILL');
        await h.exited;
      }),
    );
    const log = await readLog(nats.urls);
    const presses = log.filter(
      (p) => p.entry.kind === 'device' && p.entry.type === 'sos.pressed' && p.entry.deviceId === 'k001-sos',
    );
    // p1 twice (to node A, then again to node B): stored once.
    expect(presses).toHaveLength(1);
    const digests = await digestsAtLogEnd(
      config,
      hubs.map((h) => h.dataDir),
      nats.urls,
    );
    expect(digests[0]?.position).toBe(log.at(-1)?.position);
    expect(new Set(digests.map((d) => d.total)).size).toBe(1);
    expect(new Set(digests.map((d) => d.position)).size).toBe(1);
  });

  /** Runs `carehub start` until it exits by itself (it must refuse), and returns its output. */
  async function refusedStart(dataDir: string, env: Record<string, string>, file = config): Promise<string> {
    const { child, output } = spawnHubProcess(file, dataDir, {
      env: { CAREHUB_NATS_URL: nats.urls.join(','), CAREHUB_NODE_ID: 'hub-x', ...env },
      logLevel: 'info',
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    return output();
  }

  it('refuses, with a coded error, the drill clock and a data dir that does not continue the log', {
    timeout: 60_000,
  }, async () => {
    expect(await refusedStart(join(dir, 'manual'), { CAREHUB_CLOCK: 'manual' })).toContain(
      'HUB_ERR_CLUSTER_MANUAL_CLOCK',
    );
    // Node A's data dir against another site's (empty) log on the same NATS cluster.
    const other = join(dir, 'other.yaml');
    writeFileSync(
      other,
      `${readFileSync(config, 'utf8')}\ncluster:\n  natsUrls: [${nats.urls.join(', ')}]\n  nodeId: hub-a\n  prefix: other\n`,
    );
    expect(await refusedStart(join(dir, 'hub-a'), {}, other)).toContain('HUB_ERR_CLUSTER_LOG_MISMATCH');
    // A new node when the log no longer starts at 1 (trimmed): it must start from a copy.
    const nc = await connect({ servers: nats.urls });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.purge('carehub-log', { keep: 2 });
    } finally {
      await nc.close();
    }
    expect(await refusedStart(join(dir, 'fresh'), {})).toContain('HUB_ERR_CLUSTER_DATA_DIR_BEHIND');
  });
});
