import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { deviceTopics } from '../../../hub/src/protocol/topics.js';
import { Histogram } from './histogram.js';
import type { LoadDevice, WorkerJob, WorkerStats } from './protocol.js';

const TICK_MS = 10;
/** Publishes waiting for a PUBACK at most, per worker: past it the generator backs off (counted). */
const MAX_IN_FLIGHT = 20_000;
/** Connects under way at once when not spreading them over a storm window. */
const PUBACK_TIMEOUT_MS = 10_000;

interface Slot {
  device: LoadDevice;
  client: MqttClient;
  connected: boolean;
  /** For door contacts: the next event is door.closed. */
  doorOpen: boolean;
}

function bump(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

/**
 * One worker's share of a load run: connect its devices (spread over the storm window, or as fast
 * as allowed), then for the run's duration publish heartbeats every `heartbeatMs` per device and
 * events at `rate` per second, all QoS 1, timing each PUBACK.
 */
export async function runPool(
  job: WorkerJob,
  progress: (p: { connected: number; acked: number; phase: 'connect' | 'traffic' }) => void = () => {},
): Promise<WorkerStats> {
  const connectLatency = new Histogram();
  const puback = new Histogram();
  const connectFailures: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const slots: Slot[] = [];
  let heartbeats = 0;
  let events = 0;
  let acked = 0;
  let inFlight = 0;
  let seq = 0;
  let ending = false;
  const t0 = performance.now();
  const storm = job.connectStormMs > 0;
  const end = t0 + (storm ? Math.max(job.durationMs, job.connectStormMs) : 0);

  const connect = (device: LoadDevice, i: number): Promise<void> =>
    new Promise((resolve) => {
      const localAddress = job.sourceIps.length > 0 ? job.sourceIps[i % job.sourceIps.length] : undefined;
      const started = performance.now();
      const client = new MqttClient(
        () => createConnection({ host: job.host, port: job.port, ...(localAddress ? { localAddress } : {}) }),
        {
          clientId: device.id,
          username: device.id,
          password: device.secret,
          protocolVersion: 4,
          clean: true,
          keepalive: 120,
          connectTimeout: 30_000,
          reconnectPeriod: 0,
        },
      );
      const slot: Slot = { device, client, connected: false, doorOpen: false };
      let settled = false;
      const settle = () => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      client.on('connect', () => {
        if (!slot.connected && !settled) connectLatency.record(performance.now() - started);
        slot.connected = true;
        slots.push(slot);
        settle();
      });
      client.on('error', (err: Error & { code?: string | number }) => {
        if (!settled)
          bump(
            connectFailures,
            typeof err.code === 'number' ? `connack_${err.code}` : String(err.code ?? err.message),
          );
        else bump(errors, `socket_${String(err.code ?? 'error')}`);
        settle();
      });
      client.on('close', () => {
        if (slot.connected && !ending) bump(errors, 'disconnected');
        else if (!settled) bump(connectFailures, 'closed');
        slot.connected = false;
        settle();
      });
    });

  // Connect phase: spread over the storm window (traffic runs alongside), or as fast as allowed.
  const devices = job.devices;
  const connecting = storm
    ? Promise.all(
        devices.map(
          (d, i) =>
            new Promise<void>((resolve) => {
              setTimeout(
                () => connect(d, i).then(resolve),
                Math.round((i * job.connectStormMs) / devices.length),
              );
            }),
        ),
      )
    : (async () => {
        let next = 0;
        const reporter = setInterval(
          () => progress({ connected: slots.length, acked, phase: 'connect' }),
          1000,
        );
        await Promise.all(
          Array.from({ length: Math.max(1, Math.min(job.connectConcurrency, devices.length)) }, async () => {
            while (next < devices.length) {
              const i = next++;
              const d = devices[i];
              if (d) await connect(d, i);
            }
          }),
        );
        clearInterval(reporter);
      })();
  let connectPhaseMs = 0;
  const connected = connecting.then(() => {
    connectPhaseMs = performance.now() - t0;
  });
  if (!storm) await connected;

  const trafficStart = storm ? t0 : performance.now();
  const trafficEnd = storm ? end : trafficStart + job.durationMs;
  const publish = (slot: Slot, kind: 'heartbeat' | 'event') => {
    if (!slot.connected) {
      bump(errors, 'skipped_offline');
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      bump(errors, 'skipped_in_flight');
      return;
    }
    let type = 'heartbeat';
    if (kind === 'event' && slot.device.door) {
      type = slot.doorOpen ? 'door.closed' : 'door.opened';
      slot.doorOpen = !slot.doorOpen;
    }
    seq++;
    const payload = JSON.stringify({
      type,
      id: `${job.runId}-${job.worker}-${seq.toString(36)}`,
      battery: 90,
    });
    const sent = performance.now();
    inFlight++;
    if (kind === 'heartbeat') heartbeats++;
    else events++;
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      inFlight--;
      bump(errors, 'no_puback');
    }, PUBACK_TIMEOUT_MS);
    slot.client.publish(deviceTopics(slot.device.id).events, payload, { qos: 1 }, (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      inFlight--;
      if (err) bump(errors, 'publish_error');
      else {
        acked++;
        puback.record(performance.now() - sent);
      }
    });
  };

  // Every device has a place in the heartbeat period, so check-ins are spread evenly over it; events
  // go round-robin over the connected devices at the target rate.
  const period = Math.max(1, Math.round(job.heartbeatMs / TICK_MS));
  let rr = 0;
  let eventsAttempted = 0;
  await new Promise<void>((resolve) => {
    // Slots go by elapsed time, not by timer callbacks: a late timer catches up instead of skipping.
    let tick = 0;
    let lastProgress = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= trafficEnd) {
        clearInterval(timer);
        resolve();
        return;
      }
      const upTo = Math.floor((now - trafficStart) / TICK_MS);
      for (; tick <= upTo; tick++) {
        for (let i = tick % period; i < slots.length; i += period) {
          const s = slots[i];
          if (s) publish(s, 'heartbeat');
        }
      }
      const due = Math.floor(job.rate * ((now - trafficStart) / 1000)) - eventsAttempted;
      // At most one event per device per 20 ticks (5/s, under a hub's per-device rate limit of 10/s):
      // while few devices are connected (a storm just began) the rest is not owed later.
      const cap = Math.ceil(slots.length / 20);
      if (due > cap) eventsAttempted += due - cap;
      for (let n = 0; n < Math.min(due, cap); n++) {
        eventsAttempted++;
        const s = slots[rr++ % slots.length];
        if (s) publish(s, 'event');
      }
      if (now - lastProgress >= 1000) {
        lastProgress = now;
        progress({ connected: slots.filter((s) => s.connected).length, acked, phase: 'traffic' });
      }
    }, TICK_MS);
  });
  await connected;
  const trafficMs = performance.now() - trafficStart;
  // Let the last PUBACKs arrive, then leave.
  const drainUntil = performance.now() + PUBACK_TIMEOUT_MS;
  while (inFlight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  ending = true;
  await Promise.all(slots.map((s) => s.client.endAsync(true).catch(() => {})));
  return {
    worker: job.worker,
    devices: devices.length,
    connected: connectLatency.count,
    connectFailures,
    connectPhaseMs,
    connectLatency: connectLatency.data(),
    heartbeats,
    events,
    acked,
    puback: puback.data(),
    errors,
    trafficMs,
  };
}
