/**
 * Load generator process: holds thousands of device connections built on the devices-sim protocol
 * code (topics, event ids, SimDevice's payload and announce behaviour) and the `mqtt` package, and
 * drives them on command from the bench runner over IPC. It can also hold feed WebSocket clients or
 * plain MQTT subscribers for the fan-out figures.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { eventIdSource } from '../../devices-sim/src/event-ids.js';
import { deviceTopics } from '../../hub/src/protocol/topics.js';
import { monoMs } from '../lib/proc.js';
import type {
  ConnectArgs,
  ConnectResult,
  Counters,
  FanoutReport,
  LoadArgs,
  Reply,
  Request,
  StormArgs,
  SubClientsArgs,
} from './protocol.js';

interface Dev {
  id: string;
  localAddress: string;
  topics: ReturnType<typeof deviceTopics>;
  nextId: () => string;
  battery: number;
  rssi: number;
  client: MqttClient | undefined;
}

const ONLINE = JSON.stringify({ state: 'online' });
const OFFLINE = JSON.stringify({ state: 'offline' });

const devices: Dev[] = [];
const counters = { sent: 0, acked: 0, failed: 0, skipped: 0, inflight: 0, received: 0 };
let lastConnect: ConnectArgs | undefined;
let loadTimer: NodeJS.Timeout | undefined;
let heartbeatTimer: NodeJS.Timeout | undefined;
let loadMode: LoadArgs | undefined;
let rr = 0;
const extraClients: MqttClient[] = [];
const feedSockets: WebSocket[] = [];
/** Per fan-out client: message key → first receipt (mono ms). */
const receipts: Array<Map<string, number>> = [];
let paused = -1;
let pausedCloseAt: number | null = null;
let pausedCloseCode: number | null = null;

function makeClient(dev: Dev, a: ConnectArgs): MqttClient {
  return new MqttClient(() => netConnect({ host: a.host, port: a.port, localAddress: dev.localAddress }), {
    clientId: dev.id,
    username: dev.id,
    password: a.secret,
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: a.timeoutMs,
    ...(a.announce
      ? { will: { topic: dev.topics.status, payload: Buffer.from(OFFLINE), qos: 1 as const, retain: true } }
      : {}),
  });
}

/** CONNECT → CONNACK, SUBSCRIBE to the commands topic, announce online (as SimDevice.start does). */
function connectDevice(dev: Dev, a: ConnectArgs): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = monoMs();
    const client = makeClient(dev, a);
    let settled = false;
    const timer = setTimeout(() => fail('timeout'), a.timeoutMs);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      reject(new Error(why));
    };
    const ok = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      dev.client = client;
      resolve(monoMs() - t0);
    };
    client.on('error', (err: Error & { code?: string | number }) =>
      fail(String(err.code ?? err.message).slice(0, 60)),
    );
    client.on('close', () => {
      if (!settled) fail('closed');
      else if (dev.client === client) dev.client = undefined;
    });
    client.once('connect', () => {
      client.subscribe(dev.topics.commands, { qos: 1 }, (err, granted) => {
        if (err || granted?.[0]?.qos === 128) return fail('subscribe_refused');
        if (!a.announce) return ok();
        client.publish(dev.topics.status, ONLINE, { qos: 1, retain: true }, (e) =>
          e ? fail('status_failed') : ok(),
        );
      });
    });
  });
}

function connectMany(targets: Dev[], a: ConnectArgs, spreadMs?: number): Promise<ConnectResult> {
  const result: ConnectResult = { attempted: 0, connected: 0, failed: 0, errors: {}, ms: 0, latencies: [] };
  const t0 = monoMs();
  // Either paced at perSecond, or each device at a random moment within spreadMs (a storm).
  const offsets = targets.map((_, i) =>
    spreadMs !== undefined ? Math.random() * spreadMs : (i / Math.max(1, a.perSecond)) * 1000,
  );
  const order = targets.map((_, i) => i).sort((x, y) => (offsets[x] as number) - (offsets[y] as number));
  let next = 0;
  let outstanding = 0;
  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(tick);
      result.ms = monoMs() - t0;
      resolve(result);
    };
    const tick = setInterval(() => {
      const now = monoMs() - t0;
      while (
        next < order.length &&
        (offsets[order[next] as number] as number) <= now &&
        outstanding < a.concurrency
      ) {
        const dev = targets[order[next++] as number] as Dev;
        outstanding++;
        result.attempted++;
        connectDevice(dev, a).then(
          (ms) => {
            outstanding--;
            result.connected++;
            result.latencies.push(ms);
          },
          (err: Error) => {
            outstanding--;
            result.failed++;
            result.errors[err.message] = (result.errors[err.message] ?? 0) + 1;
          },
        );
      }
      if ((next >= order.length && outstanding === 0) || now > a.deadlineMs) finish();
    }, 2);
  });
}

function heartbeatPayload(dev: Dev): string {
  return JSON.stringify({
    type: 'heartbeat',
    id: dev.nextId(),
    ts: new Date().toISOString(),
    battery: dev.battery,
    rssi: dev.rssi,
  });
}

function sendOne(dev: Dev): boolean {
  const client = dev.client;
  if (!client?.connected) return false;
  counters.sent++;
  counters.inflight++;
  client.publish(dev.topics.events, heartbeatPayload(dev), { qos: 1 }, (err) => {
    counters.inflight--;
    if (err) counters.failed++;
    else counters.acked++;
    if (loadMode?.mode === 'closed') pump();
  });
  return true;
}

/** Next connected device, round robin; undefined when none is connected. */
function nextDevice(): Dev | undefined {
  for (let tries = 0; tries < devices.length; tries++) {
    const dev = devices[rr++ % devices.length] as Dev;
    if (dev.client?.connected) return dev;
  }
  return undefined;
}

function pump(): void {
  if (loadMode?.mode !== 'closed') return;
  while (counters.inflight < loadMode.window) {
    const dev = nextDevice();
    if (!dev || !sendOne(dev)) return;
  }
}

function startLoad(args: LoadArgs): void {
  stopLoadTimer();
  loadMode = args;
  if (args.mode === 'closed') {
    pump();
    // Re-prime if the window ever drains (e.g. after failed publishes).
    loadTimer = setInterval(pump, 50);
    return;
  }
  let last = monoMs();
  let credit = 0;
  loadTimer = setInterval(() => {
    const now = monoMs();
    credit += ((now - last) / 1000) * args.perSecond;
    last = now;
    while (credit >= 1) {
      credit--;
      if (counters.inflight >= args.maxInflight) {
        counters.skipped++;
        continue;
      }
      const dev = nextDevice();
      if (!dev) break;
      sendOne(dev);
    }
  }, 5);
}

function stopLoadTimer(): void {
  if (loadTimer) clearInterval(loadTimer);
  loadTimer = undefined;
  loadMode = undefined;
}

/** Every device sends a heartbeat every `everyMs`, at its own phase (SimDevice heartbeats). */
function startHeartbeats(everyMs: number): void {
  if (heartbeatTimer) clearInterval(heartbeatTimer);
  const slots = Math.max(1, Math.round(everyMs / 100));
  let tick = 0;
  heartbeatTimer = setInterval(() => {
    const slot = tick++ % slots;
    for (let i = slot; i < devices.length; i += slots) sendOne(devices[i] as Dev);
  }, 100);
}

function stats(): Counters {
  let connected = 0;
  for (const d of devices) if (d.client?.connected) connected++;
  for (const c of extraClients) if (c.connected) connected++;
  for (const ws of feedSockets) if (ws.readyState === WebSocket.OPEN) connected++;
  return { ...counters, connected, rssBytes: process.memoryUsage().rss };
}

async function storm(args: StormArgs): Promise<ConnectResult> {
  if (!lastConnect) throw new Error('connect first');
  const targets = devices.filter((d) => d.client);
  // Power blip: every device drops its connection without DISCONNECT, then reconnects within the window.
  for (const d of targets) {
    const c = d.client as MqttClient;
    d.client = undefined;
    c.stream?.destroy();
    c.end(true);
  }
  await new Promise((r) => setTimeout(r, 500));
  return connectMany(
    targets,
    { ...lastConnect, timeoutMs: args.timeoutMs, deadlineMs: args.deadlineMs, concurrency: 1_000_000 },
    args.windowMs,
  );
}

function subscribers(args: SubClientsArgs, record: boolean): Promise<number> {
  let ready = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${ready}/${args.count} subscribers within 60 s`)),
      60_000,
    );
    for (let i = 0; i < args.count; i++) {
      const map = new Map<string, number>();
      if (record) receipts.push(map);
      const client = new MqttClient(
        () => netConnect({ host: args.host, port: args.port, localAddress: args.localAddress }),
        {
          clientId: `${args.username}-${process.pid}-${i}`,
          username: args.username,
          password: args.password,
          protocolVersion: 4,
          clean: true,
          reconnectPeriod: 0,
          connectTimeout: 30_000,
        },
      );
      client.on('error', () => {});
      client.on('message', (_topic, payload) => {
        counters.received++;
        if (!record) return;
        const now = monoMs();
        try {
          const id = (JSON.parse(payload.toString('utf8')) as { id?: string }).id;
          if (id && !map.has(id)) map.set(id, now);
        } catch {
          // not an event
        }
      });
      client.once('connect', () => {
        client.subscribe(args.topic, { qos: 1 }, (err) => {
          if (err) return reject(err);
          if (++ready === args.count) {
            clearTimeout(timer);
            resolve(ready);
          }
        });
      });
      extraClients.push(client);
    }
  });
}

function feedClients(wsUrl: string, token: string, count: number): Promise<number> {
  let ready = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${ready}/${count} feed clients within 60 s`)),
      60_000,
    );
    for (let i = 0; i < count; i++) {
      const map = new Map<string, number>();
      receipts.push(map);
      const ws = new WebSocket(`${wsUrl}/api/v1/feed`, { headers: { authorization: `Bearer ${token}` } });
      const index = i;
      ws.on('error', () => {});
      ws.on('close', (code) => {
        if (index === paused && pausedCloseAt === null) {
          pausedCloseAt = monoMs();
          pausedCloseCode = code;
        }
      });
      ws.on('message', (raw) => {
        const now = monoMs();
        counters.received++;
        const m = JSON.parse(String(raw)) as {
          type: string;
          alert?: { kind: string; homeId: string; occurrences: number };
        };
        if (m.type === 'snapshot' && ++ready === count) {
          clearTimeout(timer);
          resolve(ready);
        }
        if (m.type === 'alert' && m.alert) {
          const key = `${m.alert.kind}:${m.alert.homeId}:${m.alert.occurrences}`;
          if (!map.has(key)) map.set(key, now);
        }
      });
      feedSockets.push(ws);
    }
  });
}

/**
 * Stop reading on client 0, as a console on a stalled laptop would. A feed client then also asks for
 * a replay of the whole feed log (`resume` from 0), as a console waking up does: without it the
 * kernel's socket buffers (up to 4 MB here) would take minutes to fill at 1000 alert changes a minute.
 */
function pauseOne(resumes: number): void {
  paused = 0;
  const ws = feedSockets[0];
  if (ws) {
    (ws as unknown as { _socket: Socket })._socket.pause();
    let sent = 0;
    const timer = setInterval(() => {
      if (sent >= resumes || ws.readyState !== WebSocket.OPEN) return clearInterval(timer);
      ws.send(JSON.stringify({ type: 'resume', afterSeq: 0, requestId: `stall-${sent++}` }));
    }, 20);
    return;
  }
  const client = extraClients[0];
  if (client) {
    client.stream.pause();
    client.on('close', () => {
      pausedCloseAt ??= monoMs();
    });
  }
}

function fanoutReport(sent: Record<string, number>, sinceMono: number): FanoutReport {
  const latencies: number[] = [];
  const timeline: Array<[number, number]> = [];
  let missing = 0;
  let open = 0;
  receipts.forEach((map, i) => {
    if (i === paused) return;
    const ws = feedSockets[i];
    const client = extraClients[i];
    if (ws?.readyState === WebSocket.OPEN || client?.connected) open++;
    for (const [key, at] of Object.entries(sent)) {
      if (at < sinceMono) continue;
      const got = map.get(key);
      if (got === undefined) {
        missing++;
        continue;
      }
      latencies.push(got - at);
      if (latencies.length % 25 === 0) timeline.push([got, got - at]);
    }
  });
  return {
    latencies,
    timeline,
    clients: receipts.length,
    openClients: open,
    slowClosedAt: pausedCloseAt,
    slowCloseCode: pausedCloseCode,
    missing,
  };
}

async function disconnect(): Promise<void> {
  stopLoadTimer();
  if (heartbeatTimer) clearInterval(heartbeatTimer);
  for (const d of devices) d.client?.end(true);
  for (const c of extraClients) c.end(true);
  for (const ws of feedSockets) ws.terminate();
}

async function handle(req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'connect': {
      lastConnect = req.args;
      const fresh: Dev[] = req.args.ids.map((id, i) => ({
        id,
        localAddress: req.args.localAddresses[
          (devices.length + i) % req.args.localAddresses.length
        ] as string,
        topics: deviceTopics(id),
        nextId: eventIdSource(),
        battery: 100 - ((i * 7) % 25),
        rssi: -48 - ((i * 5) % 30),
        client: undefined,
      }));
      devices.push(...fresh);
      return connectMany(fresh, req.args);
    }
    case 'load':
      startLoad(req.args);
      return stats();
    case 'stopLoad': {
      stopLoadTimer();
      const deadline = Date.now() + 10_000;
      while (counters.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return stats();
    }
    case 'heartbeats':
      startHeartbeats(req.args.everyMs);
      return stats();
    case 'stats':
      return stats();
    case 'storm':
      return storm(req.args);
    case 'sink':
      return subscribers(req.args, false);
    case 'subClients':
      return subscribers(req.args, true);
    case 'feedClients':
      return feedClients(req.args.wsUrl, req.args.token, req.args.count);
    case 'pauseOne':
      pauseOne(req.args.resumes);
      return true;
    case 'fanoutReport':
      return fanoutReport(req.args.sent, req.args.sinceMono);
    case 'disconnect':
      await disconnect();
      return true;
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    (result) => process.send?.({ id: req.id, ok: true, result } satisfies Reply),
    (err: unknown) =>
      process.send?.({
        id: req.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      } satisfies Reply),
  );
});
// The runner going away (even by SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
