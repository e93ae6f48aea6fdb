import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';

/**
 * Check-ins end to end (issue 21): a real hub on the drill clock, a real MQTT SOS button that hears
 * `checkin.request` and answers with `checkin`; the home's rhythm and counts over the HTTP API, a
 * staff override (audited, scoped); bad input from devices (odd request ids, a stuck button).
 */
const events = (id: string) => `carehub/v1/devices/${id}/events`;
const commands = (id: string) => `carehub/v1/devices/${id}/commands`;
const START = Date.parse('2026-11-02T08:00:00+08:00');
const MIN = 60_000;

interface Counts {
  sent: number;
  answered: number;
  activity: number;
  missed: number;
  capped: number;
}
interface HomeBody {
  home: {
    checkins: { today: Counts; last30Days: Counts; pending: unknown; recent?: Array<{ outcome: string }> };
    rhythm: {
      status: string;
      maxHours: number;
      waitMinutes: number;
      canAsk: boolean;
      override: { askAfterHours: number; by: string } | null;
      askAfterMinutes?: number[][];
    };
  };
}

async function metric(t: TestHub, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const key = pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
}

function journalTypes(t: TestHub, deviceId: string): string[] {
  const db = new Database(join(t.dataDir, 'hub.db'), { readonly: true });
  try {
    return (
      db.prepare('SELECT type FROM journal WHERE device_id = ? ORDER BY seq').all(deviceId) as Array<{
        type: string;
      }>
    ).map((r) => r.type);
  } finally {
    db.close();
  }
}

describe('check-ins over MQTT and HTTP', () => {
  const cleanup = useCleanup();

  async function drillHub(raw = demoRaw()): Promise<TestHub> {
    // The SOS button is supervised over 48 h here, so it stays reachable without a heartbeat each hour.
    const t = await startHub({
      raw: { ...raw, clock: 'manual', rules: { deviceOffline: { supervisionHours: { sos_button: 48 } } } },
      manualClockStart: START,
    });
    cleanup.push(() => t.stop());
    return t;
  }

  async function device(t: TestHub, id: string): Promise<MqttClient> {
    const c = await connectDevice(t.mqttUrl, id, { protocolVersion: 4 });
    cleanup.push(() => c.endAsync(true));
    return c;
  }

  it('a quiet door-only home: the SOS button hears checkin.request and answers; staff see it and override the rhythm', async () => {
    const t = await drillHub();
    const sup = await login(t.httpUrl, 'supervisor1');
    const sos = await device(t, 'h2-sos');
    const heard: Array<Record<string, unknown>> = [];
    sos.on('message', (_topic, payload) =>
      heard.push(JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    await sos.subscribeAsync(commands('h2-sos'), { qos: 1 });
    const door = await device(t, 'h2-door');
    await door.publishAsync(events('h2-door'), JSON.stringify({ type: 'door.closed', id: 'd1' }), { qos: 1 });

    const advance = (ms: number) => api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms } });
    // while learning: asked 24 h less the waits of its 3 requests after the door
    await advance(22 * 60 * MIN + 59 * MIN);
    expect(heard).toEqual([]);
    await advance(MIN);
    await expect.poll(() => heard.length, { timeout: 5000 }).toBe(1);
    const request = heard[0] ?? {};
    // h2's button at least (the drill's other homes are quiet too)
    expect(await metric(t, 'carehub_checkin_requests_sent_total', {})).toBeGreaterThanOrEqual(1);
    expect(request).toMatchObject({
      type: 'checkin.request',
      at: '2026-11-03T07:00:00.000+08:00',
      answerBy: '2026-11-03T07:20:00.000+08:00',
    });
    await sos.publishAsync(
      events('h2-sos'),
      JSON.stringify({ type: 'checkin', id: 'c1', requestId: request.requestId }),
      { qos: 1 },
    );
    await expect
      .poll(
        async () =>
          (await api<HomeBody>(t.httpUrl, sup, '/api/v1/homes/h2')).body.home.checkins.today.answered,
      )
      .toBe(1);
    await advance(60 * MIN);
    const alerts = await api<{ alerts: unknown[] }>(
      t.httpUrl,
      sup,
      '/api/v1/alerts?kind=inactivity&homeId=h2',
    );
    expect(alerts.body.alerts).toEqual([]);

    const { body } = await api<HomeBody>(t.httpUrl, sup, '/api/v1/homes/h2');
    expect(body.home.checkins.last30Days).toMatchObject({ sent: 1, answered: 1, missed: 0 });
    expect(body.home.checkins.recent?.map((r) => r.outcome)).toEqual(['answered']);
    expect(body.home.rhythm).toMatchObject({
      status: 'learning',
      maxHours: 24,
      waitMinutes: 20,
      canAsk: true,
    });
    expect(body.home.rhythm.askAfterMinutes).toHaveLength(7);
    expect(body.home.rhythm.askAfterMinutes?.[0]).toHaveLength(24);
    // the list carries the counts and the rhythm's status, without the whole profile
    const list = await api<{ homes: Array<HomeBody['home'] & { id: string }> }>(
      t.httpUrl,
      sup,
      '/api/v1/homes',
    );
    const h2 = list.body.homes.find((h) => h.id === 'h2');
    expect(h2?.checkins.last30Days.answered).toBe(1);
    expect(h2?.rhythm.askAfterMinutes).toBeUndefined();

    const report = await api<{ homes: Array<Counts & { homeId: string; answerRate: number | null }> }>(
      t.httpUrl,
      sup,
      '/api/v1/reports/checkins',
    );
    expect(report.status).toBe(200);
    expect(report.body.homes.find((h) => h.homeId === 'h2')).toMatchObject({
      sent: 1,
      answered: 1,
      answerRate: 1,
    });

    // a staff override: audited, answered with the new profile, clamped to the maximum less the wait
    const set = await api<HomeBody['home']>(t.httpUrl, sup, '/api/v1/homes/h2/rhythm', {
      body: { askAfterHours: 6 },
    });
    expect(set.status).toBe(200);
    expect(set.body.rhythm).toMatchObject({
      status: 'override',
      override: { askAfterHours: 6, by: 'supervisor1' },
    });
    expect(new Set(set.body.rhythm.askAfterMinutes?.flat())).toEqual(new Set([360]));
    const admin = await login(t.httpUrl, 'admin1');
    const audit = await api<{ entries: Array<{ action: string; target: string; data: unknown }> }>(
      t.httpUrl,
      admin,
      '/api/v1/audit?action=home.rhythm',
    );
    expect(audit.body.entries.map((e) => [e.target, e.data])).toEqual([
      ['h2', { type: 'override', askAfterHours: 6 }],
    ]);
    const back = await api<HomeBody['home']>(t.httpUrl, sup, '/api/v1/homes/h2/rhythm', {
      body: { askAfterHours: null },
    });
    expect(back.body.rhythm.override).toBeNull();
    const forget = await api<HomeBody['home']>(t.httpUrl, sup, '/api/v1/homes/h2/rhythm', {
      body: { forget: true },
    });
    expect(forget.body.rhythm.status).toBe('learning');
    // refused: outside the staff member's scope (404, like a home that does not exist), and bad bodies (400)
    const duty = await login(t.httpUrl, 'duty1');
    const hidden = await api<{ error: { code: string } }>(t.httpUrl, duty, '/api/v1/homes/h3/rhythm', {
      body: { askAfterHours: 6 },
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('HUB_ERR_NOT_FOUND');
    for (const bad of [
      { askAfterHours: 0 },
      { askAfterHours: 200 },
      { askAfterHours: '6' },
      { forget: false },
      {},
    ]) {
      const r = await api<{ error: { code: string } }>(t.httpUrl, sup, '/api/v1/homes/h2/rhythm', {
        body: bad,
      });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('HUB_ERR_BAD_REQUEST');
    }
    const byDuty = await api<{ homes: Array<{ homeId: string }> }>(
      t.httpUrl,
      duty,
      '/api/v1/reports/checkins',
    );
    expect(byDuty.body.homes.map((h) => h.homeId).sort()).toEqual(['h1', 'h2']);
  });

  it('a check-in with an odd requestId is accepted (PUBACK, stored, no rejection), never an error to the resident', async () => {
    const t = await drillHub();
    const sos = await device(t, 'h1-sos');
    const before = await metric(t, 'carehub_ingest_rejected_total', { reason: 'invalid_payload' });
    const odd: unknown[] = ['ci-unknown', 'ci-stale-1', 42, { id: 1 }, null, 'x'.repeat(300), 'has spaces'];
    for (const [i, requestId] of odd.entries())
      await sos.publishAsync(
        events('h1-sos'),
        JSON.stringify({ type: 'checkin', id: `odd-${i}`, requestId }),
        {
          qos: 1,
        },
      );
    await sos.publishAsync(events('h1-sos'), JSON.stringify({ type: 'checkin', id: 'plain' }), { qos: 1 });
    await expect
      .poll(() => journalTypes(t, 'h1-sos').filter((x) => x === 'checkin').length)
      .toBe(odd.length + 1);
    expect(await metric(t, 'carehub_ingest_rejected_total', { reason: 'invalid_payload' })).toBe(before);
    expect(t.hub.core.rules.stateOf('h1', t.hub.clock.now()).lastActivityType).toBe('checkin');
  });

  it('a stuck button flooding check-ins is rate-limited like any device, and its SOS press still goes through', async () => {
    const raw = demoRaw();
    raw.mqtt = {
      ...((raw.mqtt as object | undefined) ?? {}),
      limits: { publishPerSecond: 1, publishBurst: 5 },
    };
    const lines: Array<{ msg?: string }> = [];
    const t = await startHub({
      raw,
      logger: createLogger('info', {
        write(s: string) {
          for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as { msg?: string });
        },
      }),
    });
    cleanup.push(() => t.stop());
    const sos = await device(t, 'h1-sos');
    const publishes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i++) {
      publishes.push(
        sos.publishAsync(events('h1-sos'), JSON.stringify({ type: 'checkin', id: `stuck-${i}` }), { qos: 1 }),
      );
      if (i === 150)
        publishes.push(
          sos.publishAsync(events('h1-sos'), JSON.stringify({ type: 'sos.pressed', id: 'help' }), { qos: 1 }),
        );
    }
    await Promise.all(publishes);
    const dropped = await metric(t, 'carehub_ingest_rejected_total', { reason: 'rate_limited' });
    expect(dropped).toBeGreaterThanOrEqual(250);
    const types = journalTypes(t, 'h1-sos');
    expect(types.filter((x) => x === 'checkin').length).toBe(300 - dropped);
    expect(types).toContain('sos.pressed');
    const token = await login(t.httpUrl, 'supervisor1');
    await expect
      .poll(
        async () =>
          (await api<{ alerts: unknown[] }>(t.httpUrl, token, '/api/v1/alerts?kind=sos')).body.alerts.length,
      )
      .toBe(1);
    // summarised in the log, not a line per dropped check-in
    expect(lines.filter((l) => l.msg === 'publish dropped: rate limited').length).toBeLessThanOrEqual(4);
  });
});
