import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDevice, demoRaw, startHub, type TestHub, tempDir } from '../helpers/hub.js';
import { type Influxd, startInfluxd } from '../helpers/influxd.js';

/**
 * InfluxDB outage, end to end: real influxd 1.6.7, the hub in this process with influx configured.
 * Alerts raised while influxd is stopped, a hub restart while the backlog is non-empty (its
 * feed-log trim must keep unshipped rows), influxd back on the same port and data dir → every
 * alert transition arrives exactly once.
 */
let influxd: Influxd | undefined;
let t: TestHub | undefined;
let dataDir: string | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync()));
  await t?.stop();
  t = undefined;
  await influxd?.destroy();
  influxd = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function press(hub: TestHub, device: string, type: string, id: string): Promise<void> {
  let c = clients.find((x) => x.options.clientId === device);
  if (!c) {
    c = await connectDevice(hub.mqttUrl, device);
    clients.push(c);
  }
  await c.publishAsync(`carehub/v1/devices/${device}/events`, JSON.stringify({ type, id, battery: 77 }), {
    qos: 1,
  });
}

async function series(db: string, q: string): Promise<unknown[][]> {
  const r = await influxd!.query(db, q);
  if (r.results[0]?.error) throw new Error(r.results[0].error);
  return (r.results[0]?.series ?? []).flatMap((s) => s.values);
}

describe('time-series outage: nothing lost, nothing doubled', () => {
  it('ships every alert transition exactly once across an influxd outage and a hub restart', async () => {
    influxd = await startInfluxd();
    dataDir = tempDir('carehub-outage-');
    const raw = demoRaw();
    raw.influx = { url: influxd.url, database: 'carehub', flushIntervalMs: 200, batchSize: 50 };
    raw.feed = { ...((raw.feed as object | undefined) ?? {}), retainEvents: 100 };
    t = await startHub({ raw, dataDir });

    await press(t, 'h1-sos', 'sos.pressed', 'before-1');
    await expect
      .poll(
        async () =>
          (await series('carehub', `SELECT count("alert_id") FROM "alert" WHERE "home" = 'h1'`)).length,
        { timeout: 15_000 },
      )
      .toBe(1);

    await influxd.stop();
    // during the outage: a new SOS in h2, a fire in h3, and 110 repeated presses in h1 (each a transition)
    await press(t, 'h2-sos', 'sos.pressed', 'out-1');
    await press(t, 'h3-smoke', 'smoke.detected', 'out-2');
    for (let i = 0; i < 110; i++) await press(t, 'h1-sos', 'sos.pressed', `out-p${i}`);
    await expect.poll(() => t!.hub.timeSeries?.health().reachable, { timeout: 15_000 }).toBe(false);
    await expect
      .poll(() => t!.hub.timeSeries?.health().backlogRows.feed_alert, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(112);
    const health = await (await fetch(`${t.httpUrl}/healthz`)).json();
    expect(health).toMatchObject({
      status: 'degraded',
      checks: { timeSeries: { backend: 'influxdb1', reachable: false } },
    });

    // restart the hub on the same data dir while the backlog is non-empty (retainEvents 100 < backlog)
    await Promise.all(clients.splice(0).map((c) => c.endAsync()));
    await t.stop();
    t = await startHub({ raw, dataDir });
    expect(t.hub.timeSeries?.health().backlogRows.feed_alert).toBeGreaterThanOrEqual(112);
    await press(t, 'h2-smoke', 'smoke.detected', 'out-3');

    const restartedAt = Date.now();
    await influxd.restart();
    await expect
      .poll(
        () => {
          const h = t!.hub.timeSeries!.health();
          return (
            h.reachable === true &&
            h.backlogRows.feed_alert + h.backlogRows.feed_device + h.backlogRows.journal === 0
          );
        },
        { timeout: 40_000, interval: 200 },
      )
      .toBe(true);
    const drainedMs = Date.now() - restartedAt;

    // every alert version is one transition, one feed entry, one point
    const alerts = t.hub.store.alerts.query({ limit: 10_000 }).map((r) => ({
      id: r.alert.id,
      kind: r.alert.kind,
      home_id: r.alert.homeId,
      version: r.alert.version,
    }));
    const expected = alerts
      .flatMap((a) => Array.from({ length: a.version }, (_, v) => `${a.id}#${v + 1}`))
      .sort();
    expect(alerts.map((a) => `${a.home_id}:${a.kind}`).sort()).toEqual([
      'h1:sos',
      'h2:smoke',
      'h2:sos',
      'h3:smoke',
    ]);
    const points = await series('carehub', 'SELECT "alert_id", "version" FROM "alert"');
    const got = points.map((v) => `${v[1]}#${v[2]}`).sort();
    expect(got).toEqual(expected);
    expect(new Set(got).size).toBe(got.length);
    expect(got.length).toBeGreaterThanOrEqual(114);

    // the acceptance check's view: alert points tagged home + alert kind; device events never kind=sos
    expect(
      (
        await series(
          'carehub',
          `SELECT count("alert_id") FROM "alert" WHERE "home" = 'h2' AND "kind" = 'sos'`,
        )
      )[0]?.[1],
    ).toBe(1);
    expect(await series('carehub', `SELECT count("value") FROM "device_event" WHERE "kind" = 'sos'`)).toEqual(
      [],
    );
    // Device events only: the log's other entries (staff actions, the start) are not device_event points.
    const journalRows = t.hub.store.journal
      .readAfter(0, 1_000_000)
      .filter((p) => p.entry.kind === 'device').length;
    expect((await series('carehub', `SELECT count("value") FROM "device_event"`))[0]?.[1]).toBe(journalRows);
    const h = t.hub.timeSeries!.health();
    expect(h.deadLetters).toBe(0);
    expect(h.droppedAlertRows).toBe(0);
    console.info(
      `[influx-outage] ${got.length} alert points + ${journalRows} device events; backlog drained ${drainedMs} ms after influxd restart`,
    );
  }, 120_000);
});
