import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../../hub/src/config/load.js';
import type { HubConfig } from '../../../hub/src/config/schema.js';
import { packageRoot } from '../../../hub/src/package-root.js';
import { DrillClock } from '../drill/drill-clock.js';
import { HubClient } from '../drill/hub-client.js';
import { type DrillHub, startDrillHub } from '../drill/in-process-hub.js';
import { parseLocalDateTime } from '../util/local-time.js';
import {
  type CaseResult,
  type Check,
  EXPECTED_FAULT_ALERTS,
  FAULT_CASES,
  type FaultContext,
} from './cases.js';

export type FaultTarget =
  | { kind: 'in-process' }
  | { kind: 'running'; httpUrl: string; mqttHost: string; mqttPort: number; user: string; password: string };

export interface FaultResult {
  ok: boolean;
  hub: string;
  cases: CaseResult[];
  /** After all cases: exactly the expected alerts, one occurrence each; the hub healthy. */
  final: Check[];
  wallMs: number;
}

/** Where the in-process hub's drill clock starts: a weekday morning. */
const START = '2026-11-26 10:00';

function demoRaw(): Record<string, unknown> {
  const text = readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8');
  return parseDocument(text).toJS() as Record<string, unknown>;
}

/**
 * Abrupt disconnects with persistent sessions and QoS 1 resends, malformed payloads and device
 * clock skew, against an in-process hub on the demo configuration (or a running demo hub on this
 * machine); then checks that the hub stayed healthy and raised each alert exactly once.
 */
export async function runFaults(target: FaultTarget): Promise<FaultResult> {
  const wallStart = Date.now();
  const raw = demoRaw();
  const config: Readonly<HubConfig> = parseConfig(raw, {});
  const secrets = new Map(
    config.homes.flatMap((h) =>
      h.devices.flatMap((d) => (d.demoSecret ? [[d.id, d.demoSecret] as const] : [])),
    ),
  );
  const tz = config.site.timezone;
  let hub: DrillHub | undefined;
  let client: HubClient;
  let host: string;
  let port: number;
  let clock: DrillClock | undefined;
  if (target.kind === 'in-process') {
    const start = parseLocalDateTime(START, tz) ?? Date.now();
    hub = await startDrillHub({ raw, startMs: start });
    client = new HubClient(hub.httpUrl);
    await client.login(hub.user, hub.password);
    clock = new DrillClock(client, start);
    host = '127.0.0.1';
    port = hub.hub.ports.mqtt;
  } else {
    client = new HubClient(target.httpUrl);
    await client.login(target.user, target.password);
    host = target.mqttHost;
    port = target.mqttPort;
  }
  const manual = clock !== undefined;
  const hubNow = async () => (manual ? (clock?.now() ?? Date.now()) : Date.now());
  const since = (await hubNow()) - (manual ? 0 : 1000);
  const ctx: FaultContext = {
    host,
    port,
    client,
    tz,
    toleranceMs: manual ? 0 : 5000,
    hubNow,
    secretOf(id) {
      const s = secrets.get(id);
      if (!s) throw new Error(`no demoSecret for ${id}`);
      return s;
    },
  };
  const cases: CaseResult[] = [];
  const final: Check[] = [];
  try {
    if (!manual) await refuseOpenAlerts(client);
    for (const c of FAULT_CASES) {
      const result: CaseResult = { name: c.name, what: c.what, checks: [] };
      try {
        await c.run(ctx, result.checks);
      } catch (err) {
        result.error = err instanceof Error ? err.message : String(err);
      }
      cases.push(result);
    }
    // Let the hub's timers run past the offline delay (5 min): reconnected devices must raise nothing.
    await clock?.advanceTo(clock.now() + 10 * 60_000);
    const alerts = await client.alertsSince(since);
    for (const e of EXPECTED_FAULT_ALERTS) {
      const found = alerts.filter((a) => a.kind === e.kind && a.homeId === e.homeId);
      final.push({
        what: `exactly one ${e.kind} alert for ${e.homeId}, one occurrence`,
        ok: found.length === 1 && found[0]?.occurrences === 1,
        observed: found.length === 0 ? 'none' : found.map((a) => `${a.id} ×${a.occurrences}`).join(', '),
      });
    }
    const extra = alerts.filter(
      (a) => !EXPECTED_FAULT_ALERTS.some((e) => e.kind === a.kind && e.homeId === a.homeId),
    );
    final.push({
      what: 'no other alert',
      ok: extra.length === 0,
      observed: extra.length === 0 ? 'none' : extra.map((a) => `${a.kind} ${a.homeId}`).join(', '),
    });
    const health = await client.health();
    const lag = (health.checks.journal as { lagRows?: number } | undefined)?.lagRows;
    final.push({
      what: 'the hub is healthy and has processed everything it accepted',
      ok: health.status === 'ok' && (lag ?? 0) === 0,
      observed: `status ${health.status}, journal lag ${lag ?? '?'}`,
    });
    if (!manual) {
      for (const a of alerts)
        if (a.status !== 'resolved') await client.resolve(a.id, 'test', 'carehub-sim faults').catch(() => {});
    }
  } finally {
    await hub?.stop();
  }
  const ok = cases.every((c) => !c.error && c.checks.every((k) => k.ok)) && final.every((k) => k.ok);
  return {
    ok,
    hub: target.kind === 'in-process' ? 'in-process' : target.httpUrl,
    cases,
    final,
    wallMs: Date.now() - wallStart,
  };
}

/** On a running hub, earlier open alerts of the same homes would absorb this run's alerts. */
async function refuseOpenAlerts(client: HubClient): Promise<void> {
  const open = (await client.alertsSince(0, 'unresolved')).filter((a) =>
    EXPECTED_FAULT_ALERTS.some((e) => e.kind === a.kind && e.homeId === a.homeId),
  );
  if (open.length > 0) {
    throw new Error(
      `resolve these open alerts first (new ones would merge into them): ${open.map((a) => `${a.kind} ${a.homeId} ${a.id}`).join(', ')}`,
    );
  }
}
