import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
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
import { haproxyInstalled, startHaproxy } from '../helpers/haproxy.js';
import { freePort, NatsCluster, natsServerInstalled } from '../helpers/nats-cluster.js';

/**
 * The issue-19 chaos test, bounded for CI: three nats-server processes (routes, JetStream R3),
 * three hub processes (the built CLI: run `npm run build` first), and HAProxy in front with the
 * shipped deploy/cluster/haproxy.cfg (health checks on /healthz). 100 devices (SOS buttons and
 * door sensors) publish through the balancer at QoS 1 and, like real devices, send again (same
 * id) whatever was not PUBACKed when a connection dropped. Each round: kill -9 the leader hub,
 * then a NATS server, then another hub node, each brought back before the next kill.
 *
 * Afterwards: every PUBACKed press is counted exactly once on every node, the state digests of all
 * nodes are equal at the end of the log, and a staff feed that followed a killed node resumed on
 * another with no gap and no duplicate. Printed: failover time (the leader's death to the next SOS
 * from one of its devices on a surviving node's feed) and the time until every device is admitted
 * again through the balancer. Each round, a home's mode runs out while no node leads: its timer
 * fires once, on the new leader, marked late.
 */
const HOMES = 50; // an SOS button and a door sensor each: 100 devices
const ROUNDS = Number(process.env.CAREHUB_CLUSTER_ROUNDS ?? 2);
const TICK_MS = 100;
const SOS_PER_TICK = 2;
const DOORS_PER_TICK = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A device that keeps every message not yet PUBACKed and sends it again on its next connection. */
class Device {
  readonly pending = new Map<string, string>();
  readonly acked = new Set<string>();
  readonly sent = new Set<string>();
  client: MqttClient | undefined;
  #n = 0;
  #url = '';
  #stopped = false;
  /** When the current connection came up (0 while down). */
  connectedAt = 0;

  constructor(
    readonly id: string,
    readonly kind: 'sos' | 'door',
  ) {}

  get topic(): string {
    return `carehub/v1/devices/${this.id}/events`;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  start(url: string): void {
    this.#url = url;
    this.#connect();
  }

  #connect(): void {
    if (this.#stopped) return;
    const client = mqtt.connect(this.#url, {
      clientId: this.id,
      username: this.id,
      password: SECRET,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      keepalive: 10,
    });
    this.client = client;
    client.on('error', () => {});
    client.once('connect', () => {
      this.connectedAt = Date.now();
      for (const [id, body] of this.pending) this.#send(client, id, body);
    });
    client.once('close', () => {
      this.connectedAt = 0;
      client.end(true);
      if (this.client === client) setTimeout(() => this.#connect(), 100 + Math.floor(Math.random() * 200));
    });
  }

  /** Connect straight to one node (not through the balancer) from now on: to know where it is. */
  pin(url: string): void {
    this.#url = url;
    const old = this.client;
    this.client = undefined;
    old?.end(true);
    this.#connect();
  }

  send(): void {
    const client = this.client;
    if (!client?.connected) return;
    const n = ++this.#n;
    const id = `${this.id}.${n}`;
    const body =
      this.kind === 'sos'
        ? JSON.stringify({ type: 'sos.pressed', id })
        : JSON.stringify({ type: n % 2 === 1 ? 'door.opened' : 'door.closed', id });
    this.pending.set(id, body);
    this.sent.add(id);
    this.#send(client, id, body);
  }

  #send(client: MqttClient, id: string, body: string): void {
    client.publish(this.topic, body, { qos: 1 }, (err) => {
      if (err) return;
      this.pending.delete(id);
      this.acked.add(id);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.client?.end(true);
    this.client = undefined;
  }
}

interface FeedMsg {
  type: string;
  seq?: number;
  requestId?: string;
  alert?: { id: string; version: number; homeId: string; kind: string; occurrences: number };
  home?: { id: string; mode: string };
}

const keyOf = (m: FeedMsg) =>
  `${m.type}:${m.alert ? `${m.alert.id}@${m.alert.version}` : JSON.stringify(m.home)}`;

/**
 * A staff console's feed: on every new connection it asks for what it missed (`resume` after the
 * last seq it applied), holds live messages until the replay is done, and applies each seq once.
 */
class FollowingFeed {
  readonly applied: Array<{ seq: number; key: string }> = [];
  /** A seq seen twice with different contents: the nodes would number differently. */
  conflicts = 0;
  connections = 0;
  firstSeq = -1;
  /** What happened at each connection (for a failure's message). */
  readonly events: string[] = [];
  readonly raw: string[] = [];
  #last = 0;
  #byKey = new Map<number, string>();
  #held: FeedMsg[] | undefined;
  ws: WebSocket | undefined;
  #stopped = false;

  constructor(
    private readonly token: string,
    private url: string,
    private readonly fallback: string,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve) => this.#connect(resolve));
  }

  #connect(ready?: () => void): void {
    if (this.#stopped) return;
    const ws = new WebSocket(`${this.url}/api/v1/feed`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    this.ws = ws;
    ws.on('error', () => {});
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as FeedMsg;
      if (m.type === 'snapshot') {
        // The answer to a resume the node cannot serve (it is behind the last seq applied here):
        // carry on live, each seq once.
        if (this.#held) return;
        this.connections++;
        this.events.push(`snapshot ${m.seq} at ${this.url}, last applied ${this.#last}`);
        if (this.firstSeq < 0) {
          this.firstSeq = m.seq ?? 0;
          this.#last = this.firstSeq;
          ready?.();
        } else {
          this.#held = [];
          ws.send(JSON.stringify({ type: 'resume', afterSeq: this.#last, requestId: 'resume' }));
        }
        return;
      }
      if (m.type === 'result' && m.requestId === 'resume') {
        const held = (this.#held ?? []).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
        this.#held = undefined;
        this.events.push(`resumed: ${held.length} held, ${held[0]?.seq}..${held.at(-1)?.seq}`);
        for (const h of held) this.#apply(h);
        return;
      }
      // `hello` tells the node's current seq: not an entry.
      if (typeof m.seq !== 'number' || m.type === 'hello') return;
      this.raw.push(`${this.connections}:${m.seq}:${keyOf(m)}`);
      if (this.#held) this.#held.push(m);
      else this.#apply(m);
    });
    ws.once('close', () => {
      // The node is gone: carry on through the balancer.
      this.url = this.fallback;
      if (!this.#stopped) setTimeout(() => this.#connect(), 200);
    });
  }

  #apply(m: FeedMsg): void {
    const seq = m.seq as number;
    const key = keyOf(m);
    const known = this.#byKey.get(seq);
    if (known !== undefined && known !== key) this.conflicts++;
    this.#byKey.set(seq, key);
    if (seq <= this.#last) return;
    this.#last = seq;
    this.applied.push({ seq, key });
  }

  stop(): void {
    this.#stopped = true;
    this.ws?.terminate();
  }
}

/** Every feed entry after `afterSeq` as a fresh client sees them, asked of one node. */
async function fullFeed(
  httpUrl: string,
  token: string,
  afterSeq: number,
): Promise<Array<{ seq: number; key: string }>> {
  const ws = new WebSocket(`${httpUrl.replace('http', 'ws')}/api/v1/feed`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const out: Array<{ seq: number; key: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no replay within 20 s')), 20_000);
    let replaying = false;
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as FeedMsg;
      if (m.type === 'snapshot' && !replaying) {
        replaying = true;
        ws.send(JSON.stringify({ type: 'resume', afterSeq, requestId: 'all' }));
      } else if (m.type === 'result' && m.requestId === 'all') {
        clearTimeout(timer);
        resolve();
      } else if (replaying && typeof m.seq === 'number' && m.type !== 'hello')
        out.push({ seq: m.seq, key: keyOf(m) });
    });
    ws.once('error', reject);
  });
  ws.terminate();
  return out;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  // nearest rank, as the bench's summarize()
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
};

describe('cluster chaos: kill -9 of the leader hub, a NATS server and another hub, in rounds', () => {
  const cleanup: Array<() => unknown> = [];

  afterAll(async () => {
    for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => {});
  });

  it(`${ROUNDS} rounds: every PUBACKed press counted once on every node, digests equal, a following feed resumes without gap or duplicate`, {
    timeout: 240_000,
  }, async () => {
    if (!natsServerInstalled() || !haproxyInstalled())
      throw new Error('nats-server and haproxy are needed: apt-get install nats-server haproxy');
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'carehub-cluster-chaos-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const nats = await NatsCluster.start(dir);
    cleanup.push(() => nats.stop());
    const config = await writeClusterConfig(dir, HOMES + ROUNDS + 1);

    // Fixed ports per node: a restarted node comes back where the balancer expects it.
    const names = ['hub-a', 'hub-b', 'hub-c'];
    const nodePorts = new Map<string, { mqtt: number; http: number }>();
    for (const n of names) nodePorts.set(n, { mqtt: await freePort(), http: await freePort() });
    const hubs = new Map<string, ClusterHub>();
    const startNode = async (n: string) => {
      const p = nodePorts.get(n) as { mqtt: number; http: number };
      const hub = await startClusterHub(config, join(dir, n), nats.urls, n, {
        CAREHUB_MQTT_PORT: String(p.mqtt),
        CAREHUB_HTTP_PORT: String(p.http),
        CAREHUB_LOG_LEVEL: 'error',
      });
      hubs.set(n, hub);
      return hub;
    };
    const killNode = async (n: string) => {
      const hub = hubs.get(n);
      if (!hub) return;
      hub.child.kill('SIGKILL');
      await hub.exited;
      hubs.delete(n);
    };
    cleanup.push(async () => {
      for (const n of [...hubs.keys()]) await killNode(n);
    });
    for (const n of names) await startNode(n);

    const lb = { mqtt: await freePort(), http: await freePort() };
    const haproxy = await startHaproxy(
      dir,
      lb,
      names.map((name) => ({ name, ...(nodePorts.get(name) as { mqtt: number; http: number }) })),
    );
    cleanup.push(() => haproxy.stop());
    const lbMqtt = `mqtt://127.0.0.1:${lb.mqtt}`;
    const lbHttp = `http://127.0.0.1:${lb.http}`;
    const urlOf = (n: string) => `http://127.0.0.1:${nodePorts.get(n)?.http}`;
    const mqttOf = (n: string) => `mqtt://127.0.0.1:${nodePorts.get(n)?.mqtt}`;

    const leaderNow = async (): Promise<string> => {
      for (let i = 0; i < 200; i++) {
        const hs = await Promise.all([...hubs.keys()].map((n) => healthOf(urlOf(n))));
        const leaders = new Set(hs.map((h) => h?.cluster?.leader));
        const l = [...leaders][0];
        if (leaders.size === 1 && l && hubs.has(l)) return l;
        await sleep(100);
      }
      throw new Error('no leader agreed on within 20 s');
    };

    const devices: Device[] = [];
    for (let i = 0; i < HOMES; i++) {
      const home = `k${String(i).padStart(3, '0')}`;
      devices.push(new Device(`${home}-sos`, 'sos'), new Device(`${home}-door`, 'door'));
    }
    for (const d of devices) d.start(lbMqtt);
    cleanup.push(() => {
      for (const d of devices) d.stop();
    });
    await expect.poll(() => devices.every((d) => d.connected), { timeout: 20_000 }).toBe(true);

    const token = await login(lbHttp, 'sup');
    const firstLeader = await leaderNow();
    // The console follows the node about to be killed first.
    const follower = new FollowingFeed(
      token,
      urlOf(firstLeader).replace('http', 'ws'),
      lbHttp.replace('http', 'ws'),
    );
    await follower.start();
    cleanup.push(() => follower.stop());

    const sos = devices.filter((d) => d.kind === 'sos');
    const doors = devices.filter((d) => d.kind === 'door');
    let tick = 0;
    const load = setInterval(() => {
      for (let k = 0; k < SOS_PER_TICK; k++) sos[(tick * SOS_PER_TICK + k) % sos.length]?.send();
      for (let k = 0; k < DOORS_PER_TICK; k++) doors[(tick * DOORS_PER_TICK + k) % doors.length]?.send();
      tick++;
    }, TICK_MS);
    cleanup.push(() => clearInterval(load));

    const failovers: number[] = [];
    const readmissions: number[] = [];
    const takeovers: number[] = [];
    const timersLate: number[] = [];
    const timerChecks: Array<{ home: string; until: number; victim: string }> = [];
    await sleep(2000);

    for (let round = 0; round < ROUNDS; round++) {
      // 1. The leader hub. A probe button sits on it; a home's away mode runs out while no node leads.
      const victim = await leaderNow();
      const probeHome = `k${String(HOMES + round).padStart(3, '0')}`;
      const probe = new Device(`${probeHome}-sos`, 'sos');
      probe.start(mqttOf(victim));
      cleanup.push(() => probe.stop());
      await expect.poll(() => probe.connected, { timeout: 10_000 }).toBe(true);
      const survivor = names.find((n) => n !== victim && hubs.has(n)) as string;
      const watch = new WebSocket(`${urlOf(survivor).replace('http', 'ws')}/api/v1/feed`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const probeSeen: number[] = [];
      watch.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as FeedMsg;
        if (m.type === 'alert' && m.alert?.homeId === probeHome && m.alert.kind === 'sos')
          probeSeen.push(Date.now());
      });
      await new Promise((r) => watch.once('open', r));
      const timerHome = `k${String(HOMES + ROUNDS).padStart(3, '0')}`;
      const until = Date.now() + 1200;
      const mode = await fetch(`${urlOf(survivor)}/api/v1/homes/${timerHome}/mode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'away', until: new Date(until).toISOString() }),
      });
      expect(mode.status, await mode.text()).toBe(200);
      // The mode entry is applied on the leader too before it dies (it armed the timer).
      const modeApplied = (await healthOf(urlOf(survivor)))?.cluster?.applied ?? 0;
      await expect
        .poll(async () => (await healthOf(urlOf(victim)))?.cluster?.applied ?? 0, { timeout: 5000 })
        .toBeGreaterThanOrEqual(modeApplied);
      timerChecks.push({ home: timerHome, until, victim });

      const killedAt = Date.now();
      await killNode(victim);
      const takeover = leaderNow().then((leader) => ({ leader, ms: Date.now() - killedAt }));
      // The probe's next connection goes through the balancer; it presses every 100 ms.
      probe.pin(lbMqtt);
      const pressing = setInterval(() => probe.send(), 100);
      await expect
        .poll(() => probeSeen.some((t) => t > killedAt), { timeout: 15_000, interval: 20 })
        .toBe(true);
      failovers.push((probeSeen.find((t) => t > killedAt) as number) - killedAt);
      await expect
        .poll(() => devices.every((d) => d.connected), { timeout: 15_000, interval: 20 })
        .toBe(true);
      readmissions.push(Math.max(...devices.map((d) => d.connectedAt)) - killedAt);
      clearInterval(pressing);
      watch.terminate();
      // A new leader has fired the timer (late) before the old one is back.
      const { leader: newLeader, ms } = await takeover;
      expect(newLeader).not.toBe(victim);
      takeovers.push(ms);
      await sleep(1000);
      await startNode(victim);

      // 2. A NATS server.
      await sleep(1500);
      const natsVictim = round % 3;
      await nats.kill(natsVictim);
      await sleep(3000);
      await nats.restart(natsVictim);
      await sleep(2000);

      // 3. Another hub node (not the leader now).
      const leader = await leaderNow();
      const other = names.find((n) => n !== leader && n !== victim) ?? names.find((n) => n !== leader);
      await killNode(other as string);
      await sleep(2500);
      await startNode(other as string);
      await sleep(1500);
    }

    clearInterval(load);
    // Devices send whatever was never acknowledged; then every node applies the whole log.
    await expect
      .poll(() => devices.reduce((n, d) => n + d.pending.size, 0), { timeout: 30_000, interval: 200 })
      .toBe(0);
    const lastSeq = async () => {
      const { connect } = await import('nats');
      const nc = await connect({ servers: nats.urls });
      try {
        return (await (await nc.jetstreamManager()).streams.info('carehub-log')).state.last_seq;
      } finally {
        await nc.close();
      }
    };
    const end = await lastSeq();
    for (const n of names)
      await expect
        .poll(async () => (await healthOf(urlOf(n)))?.cluster?.applied ?? 0, {
          timeout: 30_000,
          interval: 200,
        })
        .toBeGreaterThanOrEqual(end);

    // Every PUBACKed press counted exactly once, on every node.
    const problems: string[] = [];
    for (const n of names) {
      const t = await login(urlOf(n), 'sup');
      const res = await fetch(`${urlOf(n)}/api/v1/alerts?kind=sos&limit=500`, {
        headers: { authorization: `Bearer ${t}` },
      });
      const alerts = ((await res.json()) as { alerts: Array<{ homeId: string; occurrences: number }> })
        .alerts;
      for (const d of sos) {
        const home = d.id.replace(/-sos$/, '');
        const occurrences = alerts.filter((a) => a.homeId === home).reduce((s, a) => s + a.occurrences, 0);
        if (occurrences < d.acked.size || occurrences > d.sent.size)
          problems.push(
            `${n} ${home}: ${occurrences} occurrences, ${d.acked.size} PUBACKed, ${d.sent.size} sent`,
          );
      }
    }

    // The log: each press applied once (redeliveries dropped), none PUBACKed missing.
    const log = await readLog(nats.urls);
    const stored = new Map<string, number>();
    for (const { entry: e } of log)
      if (e.kind === 'device' && e.eventId) stored.set(e.eventId, (stored.get(e.eventId) ?? 0) + 1);
    for (const d of devices)
      for (const id of d.acked) if (!stored.has(id)) problems.push(`PUBACKed ${id} not in the log`);
    expect(problems.slice(0, 20)).toEqual([]);

    // The timers that ran out while no node led: one timer entry each, late, from a new leader.
    for (const t of timerChecks) {
      const fired = log.filter(
        (p) => p.entry.kind === 'timer' && p.entry.key === `mode:${t.home}` && p.entry.dueAt === t.until,
      );
      expect(fired, `timer mode:${t.home}`).toHaveLength(1);
      const entry = fired[0]?.entry as { late: boolean; node?: string; at: number; dueAt: number };
      expect(entry.late).toBe(true);
      timersLate.push(entry.at - entry.dueAt);
      expect(entry.node).not.toBe(t.victim);
    }

    // The following feed: everything a fresh client sees after its start, in order, once.
    const truth = await fullFeed(urlOf(names[0] as string), token, follower.firstSeq);
    await expect
      .poll(() => follower.applied.at(-1)?.seq ?? 0, { timeout: 10_000 })
      .toBe(truth.at(-1)?.seq ?? 0);
    expect(follower.connections).toBeGreaterThanOrEqual(2);
    expect(follower.conflicts).toBe(0);
    const missing = truth.filter((t) => !follower.applied.some((a) => a.seq === t.seq)).map((t) => t.seq);
    if (missing.length > 0) {
      const from = truth.findIndex((t) => t.seq === missing[0]);
      console.log('truth around the gap', truth.slice(Math.max(0, from - 3), from + 20));
      console.log('received', follower.raw.slice(Math.max(0, from - 5), from + 25));
    }
    expect(missing, follower.events.join('\n')).toEqual([]);
    expect(follower.applied.map((a) => a.seq)).toEqual(truth.map((a) => a.seq));
    expect(follower.applied.map((a) => a.key)).toEqual(truth.map((a) => a.key));
    follower.stop();

    // Digests of all nodes, each at the end of the log.
    for (const n of names) await killNode(n);
    const digests = await digestsAtLogEnd(
      config,
      names.map((n) => join(dir, n)),
      nats.urls,
    );
    expect(new Set(digests.map((d) => d.position)).size).toBe(1);
    expect(new Set(digests.map((d) => d.total)).size).toBe(1);

    const sent = devices.reduce((s, d) => s + d.sent.size, 0);
    const acked = devices.reduce((s, d) => s + d.acked.size, 0);
    console.log(
      `cluster chaos: ${ROUNDS} rounds (leader hub, NATS server, another hub, each kill -9) in ${Date.now() - started} ms; ` +
        `${sent} device messages sent, ${acked} PUBACKed, ${log.length} log entries; ` +
        `failover (leader death → next SOS of one of its devices on a surviving node's feed) ms: ${failovers.join(', ')} ` +
        `(p50 ${percentile(failovers, 50)}, max ${Math.max(...failovers)}); ` +
        `all devices admitted again through HAProxy ms: ${readmissions.join(', ')} (p50 ${percentile(readmissions, 50)}, max ${Math.max(...readmissions)}); ` +
        `new leader agreed on by every live node ms: ${takeovers.join(', ')}; timers due while no node led fired late by ms: ${timersLate.join(', ')}; ` +
        `feed follower: ${follower.connections} connections, ${follower.applied.length} entries, no gap or duplicate`,
    );
    expect(acked).toBe(sent);
  });
});
