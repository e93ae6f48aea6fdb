import { randomBytes } from 'node:crypto';
import { previousLocalTime } from '../../../hub/src/time/local.js';
import type { HubClient } from '../drill/hub-client.js';
import { metricSum } from '../util/prometheus.js';
import { CutProxy } from './cut-proxy.js';
import { DupMarkingStore } from './dup-store.js';
import { FaultDevice } from './fault-device.js';

export interface FaultContext {
  host: string;
  port: number;
  client: HubClient;
  secretOf(deviceId: string): string;
  /** The hub's clock (the drill clock, or the system clock of a running hub). */
  hubNow(): Promise<number>;
  /** How far the hub's stamp may be from `hubNow()` read just before (0 on the drill clock). */
  toleranceMs: number;
  /** The site's time zone. */
  tz: string;
}

export interface Check {
  what: string;
  ok: boolean;
  observed: string;
}

export interface CaseResult {
  name: string;
  what: string;
  checks: Check[];
  error?: string;
}

export interface FaultCase {
  name: string;
  what: string;
  run(ctx: FaultContext, checks: Check[]): Promise<void>;
}

const eventId = () => `fault-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const metric = async (ctx: FaultContext, name: string, labels: Record<string, string> = {}) =>
  metricSum(await ctx.client.metrics(), name, labels);

function check(checks: Check[], what: string, ok: boolean, observed: string): void {
  checks.push({ what, ok, observed });
}

/**
 * The hub stores a life-safety event, but its PUBACK (and the alert.received) never reach the
 * device: the link is cut. The device reconnects with its persistent session and resends; the hub
 * must take the resend as the same event.
 */
function lostAnswer(name: string, deviceId: string, type: string, withId: boolean): FaultCase {
  return {
    name,
    what: `${deviceId} sends ${type} ${withId ? 'with an event id' : 'without an id (resend carries the DUP flag)'}; the link drops before the PUBACK; it reconnects (clean=false) and resends`,
    async run(ctx, checks) {
      const proxy = await CutProxy.start(ctx.host, ctx.port);
      const device = await FaultDevice.connect({
        host: '127.0.0.1',
        port: proxy.port,
        id: deviceId,
        secret: ctx.secretOf(deviceId),
        clean: false,
        reconnectMs: 200,
        ...(withId ? {} : { outgoingStore: new DupMarkingStore() }),
      });
      try {
        const duplicates = await metric(ctx, 'carehub_ingest_duplicates_total');
        const cut = proxy.cutOnNextAnswer();
        const payload = JSON.stringify({ type, ...(withId ? { id: eventId() } : {}), battery: 80 });
        const acked = device.publishEvent(payload);
        await cut;
        check(checks, 'the link was cut right after the hub answered', proxy.cuts === 1, `${proxy.cuts} cut`);
        await acked;
        check(
          checks,
          'the resend was acknowledged after reconnecting',
          device.connects >= 2,
          `${device.connects} connects`,
        );
        check(
          checks,
          'the persistent session was resumed',
          device.sessionPresent.at(-1) === true,
          `session present: ${device.sessionPresent.join(', ')}`,
        );
        const dropped = (await metric(ctx, 'carehub_ingest_duplicates_total')) - duplicates;
        check(
          checks,
          'the hub dropped the resend as a duplicate',
          dropped === 1,
          `${dropped} duplicate(s) dropped`,
        );
        const received = await device.command((c) => c.type === 'alert.received');
        check(
          checks,
          'alert.received, lost with the link, was redelivered in the resumed session',
          received !== undefined,
          received ? `alert ${received.alertId}` : 'not received',
        );
      } finally {
        await device.close();
        await proxy.stop();
      }
    },
  };
}

const abruptDisconnects: FaultCase = {
  name: 'abrupt-disconnects',
  what: 'h2-door loses its connection 5 times (no DISCONNECT: the Last Will fires), reconnects with its persistent session each time and checks in',
  async run(ctx, checks) {
    const device = await FaultDevice.connect({
      host: ctx.host,
      port: ctx.port,
      id: 'h2-door',
      secret: ctx.secretOf('h2-door'),
      clean: false,
      reconnectMs: 100,
      announce: true,
    });
    try {
      let acked = 0;
      for (let i = 0; i < 5; i++) {
        const back = device.reconnected();
        device.dropConnection();
        await back;
        await device.publishEvent(JSON.stringify({ type: 'heartbeat', id: eventId(), battery: 77 }));
        acked++;
      }
      check(checks, 'every reconnect succeeded', device.connects === 6, `${device.connects} connects`);
      check(checks, 'a heartbeat after each reconnect was acknowledged', acked === 5, `${acked}/5`);
      check(
        checks,
        'each reconnect resumed the session',
        device.sessionPresent.slice(1).every((s) => s),
        `session present: ${device.sessionPresent.slice(1).join(', ')}`,
      );
    } finally {
      await device.close();
    }
  },
};

const MALFORMED: ReadonlyArray<{ label: string; payload: string | Buffer; reason: string }> = [
  { label: 'not JSON', payload: 'door opened!', reason: 'not_json' },
  { label: 'empty', payload: '', reason: 'not_json' },
  { label: 'invalid UTF-8', payload: Buffer.from([0xff, 0xfe, 0xfd, 0x7b]), reason: 'not_utf8' },
  { label: 'a JSON array', payload: '[1,2,3]', reason: 'invalid_payload' },
  { label: 'no type', payload: '{"battery":50}', reason: 'invalid_payload' },
  { label: 'unknown type', payload: '{"type":"door.exploded"}', reason: 'unknown_type' },
  { label: 'wrong field type', payload: '{"type":"heartbeat","battery":"full"}', reason: 'invalid_payload' },
  {
    label: 'oversize (5 KiB)',
    payload: JSON.stringify({ type: 'heartbeat', pad: 'x'.repeat(5000) }),
    reason: 'too_large',
  },
];

const malformed: FaultCase = {
  name: 'malformed-payloads',
  what: `h1-door sends ${MALFORMED.length} malformed payloads (${MALFORMED.map((m) => m.label).join(', ')}), then a valid heartbeat`,
  async run(ctx, checks) {
    const device = await FaultDevice.connect({
      host: ctx.host,
      port: ctx.port,
      id: 'h1-door',
      secret: ctx.secretOf('h1-door'),
      clean: true,
      reconnectMs: 0,
    });
    try {
      const reasons = [...new Set(MALFORMED.map((m) => m.reason))];
      const before = await Promise.all(
        reasons.map((reason) => metric(ctx, 'carehub_ingest_rejected_total', { reason })),
      );
      let acked = 0;
      for (const m of MALFORMED) {
        await device.publishEvent(m.payload);
        acked++;
      }
      const after = await Promise.all(
        reasons.map((reason) => metric(ctx, 'carehub_ingest_rejected_total', { reason })),
      );
      const rejected = after.reduce((n, v, i) => n + v - (before[i] ?? 0), 0);
      check(
        checks,
        'each was acknowledged (never a resend loop)',
        acked === MALFORMED.length,
        `${acked}/${MALFORMED.length}`,
      );
      check(
        checks,
        'each was rejected with its reason',
        rejected === MALFORMED.length,
        reasons.map((r, i) => `${r} +${(after[i] ?? 0) - (before[i] ?? 0)}`).join(', '),
      );
      const events = await metric(ctx, 'carehub_ingest_events_total', { type: 'heartbeat' });
      await device.publishEvent(JSON.stringify({ type: 'heartbeat', id: eventId(), battery: 66 }));
      const accepted = (await metric(ctx, 'carehub_ingest_events_total', { type: 'heartbeat' })) - events;
      check(
        checks,
        'the connection stayed up and a valid event is accepted',
        device.client.connected && accepted === 1,
        `${accepted} accepted`,
      );
    } finally {
      await device.close();
    }
  },
};

const clockSkew: FaultCase = {
  name: 'device-clock-skew',
  what: 'events whose device time (ts) is wrong: a night-time ts from h1-door (wandering risk) by day, ts in 2099, ts 0, ts "yesterday"; an SOS from h3-sos with ts 0',
  async run(ctx, checks) {
    const door = await FaultDevice.connect({
      host: ctx.host,
      port: ctx.port,
      id: 'h1-door',
      secret: ctx.secretOf('h1-door'),
      clean: true,
      reconnectMs: 0,
    });
    const sos = await FaultDevice.connect({
      host: ctx.host,
      port: ctx.port,
      id: 'h3-sos',
      secret: ctx.secretOf('h3-sos'),
      clean: true,
      reconnectMs: 0,
    });
    try {
      const now = await ctx.hubNow();
      const night = new Date(previousLocalTime(now, ctx.tz, '03:00')).toISOString();
      await door.publishEvent(JSON.stringify({ type: 'door.opened', id: eventId(), ts: night }));
      await door.publishEvent(
        JSON.stringify({ type: 'door.closed', id: eventId(), ts: '2099-01-01T00:00:00Z' }),
      );
      await door.publishEvent(JSON.stringify({ type: 'heartbeat', id: eventId(), ts: 0 }));
      await door.publishEvent(JSON.stringify({ type: 'heartbeat', id: eventId(), ts: 'yesterday' }));
      const pressedAt = await ctx.hubNow();
      await sos.publishEvent(JSON.stringify({ type: 'sos.pressed', id: eventId(), ts: 0 }));
      const alerts = await ctx.client.alertsSince(pressedAt - ctx.toleranceMs);
      const nightExit = alerts.filter((a) => a.kind === 'night_exit' && a.homeId === 'h1');
      check(
        checks,
        'a night-time device clock raises no night exit by day',
        nightExit.length === 0,
        `${nightExit.length} night_exit alert(s)`,
      );
      const alert = alerts.find((a) => a.kind === 'sos' && a.homeId === 'h3');
      const drift = alert ? Math.abs(Date.parse(alert.raisedAt) - pressedAt) : Number.NaN;
      check(
        checks,
        'the SOS is raised at the hub time, not the device time',
        alert !== undefined && drift <= ctx.toleranceMs,
        alert ? `raised ${alert.raisedAt} (${drift} ms from the hub clock)` : 'no SOS alert',
      );
    } finally {
      await door.close();
      await sos.close();
    }
  },
};

/** The fault cases, in the order they run. Their alerts: SOS h1, SOS h2, smoke h3 (once each), SOS h3. */
export const FAULT_CASES: readonly FaultCase[] = [
  lostAnswer('lost-puback-sos', 'h1-sos', 'sos.pressed', true),
  lostAnswer('lost-puback-dup-flag', 'h2-sos', 'sos.pressed', false),
  lostAnswer('lost-puback-smoke', 'h3-smoke', 'smoke.detected', true),
  abruptDisconnects,
  malformed,
  clockSkew,
];

/** Exactly the alerts the fault run must leave: one each, one occurrence each. */
export const EXPECTED_FAULT_ALERTS: ReadonlyArray<{ kind: string; homeId: string }> = [
  { kind: 'sos', homeId: 'h1' },
  { kind: 'sos', homeId: 'h2' },
  { kind: 'smoke', homeId: 'h3' },
  { kind: 'sos', homeId: 'h3' },
];
