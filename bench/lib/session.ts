import { join } from 'node:path';
import type { ConnectResult, Counters } from '../loadgen/protocol.js';
import { type HubChild, hubHealth, startHub } from './hub-child.js';
import { type Mosquitto, SINK_PASSWORD, SINK_USER, startMosquitto } from './mosquitto.js';
import { sourceAddresses } from './net.js';
import { FeedWatcher, login, MqttWatcher, Publishers, type Watcher } from './probe.js';
import type { Site } from './site.js';
import { summarize } from './stats.js';
import { sumCounters, Worker } from './workers.js';

export type TargetKind = 'hub' | 'mosquitto';

/**
 * One broker under test (the hub as a child process, or the Mosquitto reference) with the load
 * generators connected to it, the probe devices and the receiver of the measured messages: the
 * hub's duty feed, or for Mosquitto a subscriber (plus a sink that consumes every device event, as
 * the hub consumes them).
 */
export interface Session {
  kind: TargetKind;
  pid: number;
  port: number;
  site: Site;
  workers: Worker[];
  sink: Worker | undefined;
  watcher: Watcher;
  probes: Publishers;
  smoke: Publishers;
  hub: HubChild | undefined;
  mosquitto: Mosquitto | undefined;
  /** Time to connect the load devices, and their CONNECT → ready latencies. */
  admission: {
    devices: number;
    connected: number;
    ms: number;
    p99Ms: number;
    errors: Record<string, number>;
  };
  counters(): Promise<Counters>;
  /** Messages that went through: events made durable and processed (hub) or delivered to the sink (Mosquitto). */
  forwarded(): Promise<number>;
  close(): Promise<void>;
}

export interface SessionOptions {
  kind: TargetKind;
  site: Site;
  dir: string;
  loadDevices: number;
  generators: number;
  connectPerSecond: number;
  cpuProfDir?: string | undefined;
  log: (msg: string) => void;
}

export async function openSession(o: SessionOptions): Promise<Session> {
  let hub: HubChild | undefined;
  let mosquitto: Mosquitto | undefined;
  const workers: Worker[] = [];
  let sink: Worker | undefined;
  let watcher: Watcher | undefined;
  let probes: Publishers | undefined;
  let smoke: Publishers | undefined;
  const closeAll = async () => {
    await Promise.allSettled([
      ...workers.map((w) => w.close()),
      sink?.close(),
      watcher?.close(),
      probes?.close(),
      smoke?.close(),
    ]);
    await hub?.stop();
    await mosquitto?.stop();
  };
  try {
    if (o.kind === 'hub') {
      hub = await startHub({
        configFile: o.site.configFile,
        dataDir: o.site.dataDir,
        logFile: join(o.dir, 'hub.log'),
        cpuProfDir: o.cpuProfDir,
      });
    } else {
      mosquitto = await startMosquitto(o.dir, o.site.allIds, o.site.secret);
    }
    const port = hub ? hub.mqttPort : (mosquitto as Mosquitto).port;
    let w: Watcher;
    const pid = hub ? hub.pid : (mosquitto as Mosquitto).pid;
    if (mosquitto) {
      sink = new Worker('sink');
      await sink.sink({
        host: '127.0.0.1',
        port,
        localAddress: '127.0.0.3',
        username: SINK_USER,
        password: SINK_PASSWORD,
        topic: 'carehub/v1/devices/+/events',
        count: 1,
      });
      w = await MqttWatcher.connect(port, [...o.site.probeIds, ...o.site.smokeIds]);
    } else {
      const h = hub as HubChild;
      const token = await login(h.httpUrl, o.site.staff.username, o.site.staff.password);
      w = await FeedWatcher.connect(h.wsUrl, token);
    }
    watcher = w;
    probes = await Publishers.connect(port, o.site.probeIds, o.site.secret);
    smoke = await Publishers.connect(port, o.site.smokeIds, o.site.secret);
    const ids = o.site.loadIds.slice(0, o.loadDevices);
    const per = Math.ceil(ids.length / o.generators);
    for (let g = 0; g < o.generators; g++) workers.push(new Worker(`gen${g}`));
    o.log(`  ${o.kind}: connecting ${ids.length} devices from ${o.generators} generators`);
    const results: ConnectResult[] = await Promise.all(
      workers.map((w, g) =>
        w.connect({
          host: '127.0.0.1',
          port,
          localAddresses: sourceAddresses(g),
          ids: ids.slice(g * per, (g + 1) * per),
          secret: o.site.secret,
          perSecond: o.connectPerSecond / o.generators,
          concurrency: 500,
          announce: true,
          timeoutMs: 30_000,
          deadlineMs: 240_000,
        }),
      ),
    );
    const errors: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    const admission = {
      devices: ids.length,
      connected: results.reduce((n, r) => n + r.connected, 0),
      ms: Math.max(...results.map((r) => r.ms)),
      p99Ms: summarize(results.flatMap((r) => r.latencies)).p99,
      errors,
    };
    o.log(
      `  ${o.kind}: ${admission.connected}/${admission.devices} connected in ${Math.round(admission.ms)} ms${Object.keys(errors).length ? ` errors ${JSON.stringify(errors)}` : ''}`,
    );
    const counters = async () => sumCounters(await Promise.all(workers.map((w) => w.stats())));
    return {
      kind: o.kind,
      pid,
      port,
      site: o.site,
      workers,
      sink,
      watcher: w,
      probes,
      smoke,
      hub,
      mosquitto,
      admission,
      counters,
      async forwarded() {
        if (sink) return (await sink.stats()).received;
        // Events through the whole pipeline: journal rows the processor has applied. PUBACKs alone
        // would also count publishes the broker's rate limit acknowledged and dropped.
        const h = (await hubHealth((hub as HubChild).httpUrl)) as {
          checks: { journal: { lastSeq: number; lagRows: number } };
        };
        return h.checks.journal.lastSeq - h.checks.journal.lagRows;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
