import { mkdirSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { MqttClient } from 'mqtt';
import { toLine } from '../../hub/src/timeseries/influx2-backend.js';
import { journalPoint } from '../../hub/src/timeseries/points.js';
import { startInfluxd } from '../../test/helpers/influxd.js';
import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { hubHealth, startHub } from '../lib/hub-child.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { prepareDataDir } from '../lib/prepare-data.js';
import { monoMs, sleep } from '../lib/proc.js';
import { BENCH_SCRYPT_N, generateSite, type Site } from '../lib/site.js';
import { round } from '../lib/stats.js';

export interface StartupParams {
  journalRows: number;
  timers: number;
  influxRows: number;
}

/** Connect one device, retrying until the broker answers with a CONNACK; ms since `t0`. */
async function firstConnack(port: number, id: string, secret: string, t0: number): Promise<number> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = new MqttClient(() => netConnect({ host: '127.0.0.1', port }), {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
      });
      c.once('connect', () => {
        c.end(true);
        resolve(true);
      });
      c.once('error', () => {
        c.end(true);
        resolve(false);
      });
      c.once('close', () => resolve(false));
    });
    if (ok) return monoMs() - t0;
    if (monoMs() - t0 > 120_000) throw new Error('no CONNACK within 120 s');
    await sleep(5);
  }
}

async function hubStart(
  ctx: Ctx,
  site: Site,
  dataDir: string,
  name: string,
): Promise<{ listenMs: number; connackMs: number }> {
  const t0 = monoMs();
  const hub = await startHub({
    configFile: site.configFile,
    dataDir,
    logFile: join(ctx.tmp, `${name}.log`),
    timeoutMs: 300_000,
  });
  try {
    const connackMs = await firstConnack(hub.mqttPort, site.probeIds[0] as string, site.secret, t0);
    return { listenMs: round(hub.startMs, 0), connackMs: round(connackMs, 0) };
  } finally {
    await hub.stop();
  }
}

/**
 * 5. Start and recovery: spawn → accepting connections (ports.json) → first CONNACK, for a hub
 * whose data dir holds `journalRows` journal rows and `timers` pending timers; the same hub
 * configuration on an empty data dir and Mosquitto (same accounts) are the references. Then the
 * InfluxDB backlog drain: a hub that finds `influxRows` unshipped journal rows ships them to a
 * real influxd; the reference is the same points written straight to influxd, batch after batch.
 */
export async function startupScenario(ctx: Ctx, p: StartupParams): Promise<void> {
  ctx.log(
    `[5] start: ${p.journalRows.toLocaleString('en-US')} journal rows, ${p.timers.toLocaleString('en-US')} timers`,
  );
  const site = await generateSite({
    dir: join(ctx.tmp, 'site-start'),
    loadDevices: 10_000,
    scryptN: BENCH_SCRYPT_N,
  });
  const prep = prepareDataDir(site.dataDir, site, p.journalRows, p.timers);
  const dbMB = round(statSync(join(site.dataDir, 'hub.db')).size / 2 ** 20, 0);
  ctx.log(`  prepared ${dbMB} MB in ${round(prep.ms / 1000, 1)} s`);
  const loaded = await hubStart(ctx, site, site.dataDir, 'start-loaded');
  const empty = await hubStart(ctx, site, join(ctx.tmp, 'start-empty'), 'start-empty');
  const t0 = monoMs();
  const mosq = await startMosquitto(join(ctx.tmp, 'site-start'), site.allIds, site.secret);
  let mosqConnack: number;
  try {
    mosqConnack = round(await firstConnack(mosq.port, site.probeIds[0] as string, site.secret, t0), 0);
  } finally {
    await mosq.stop();
  }
  ctx.log(
    `  hub (loaded): listening ${loaded.listenMs} ms, CONNACK ${loaded.connackMs} ms; hub (empty) ${empty.connackMs} ms; Mosquitto ${mosqConnack} ms`,
  );
  ctx.details.startup = {
    journalRows: p.journalRows,
    timers: p.timers,
    dbMB,
    prepareMs: round(prep.ms, 0),
    loaded,
    empty,
    mosquittoConnackMs: mosqConnack,
  };
  ctx.figures.push(
    {
      scenario: '5',
      name: `start -> first CONNACK, ${p.journalRows.toLocaleString('en-US')} journal rows (${dbMB} MB), ${p.timers.toLocaleString('en-US')} timers, 10 100 devices`,
      unit: 'ms',
      hub: loaded.connackMs,
      reference: mosqConnack,
      referenceName: MOSQ,
      ratio: ratio(loaded.connackMs, mosqConnack),
      target: '<= 3000 (10M rows)',
      met: p.journalRows >= 10_000_000 ? loaded.connackMs <= 3000 : null,
    },
    {
      scenario: '5',
      name: 'start -> first CONNACK, same configuration, empty data dir',
      unit: 'ms',
      hub: empty.connackMs,
      reference: mosqConnack,
      referenceName: MOSQ,
      ratio: ratio(empty.connackMs, mosqConnack),
    },
  );
  await influxDrain(ctx, p.influxRows);
}

async function influxDrain(ctx: Ctx, rows: number): Promise<void> {
  ctx.log(`[5] InfluxDB backlog drain: ${rows.toLocaleString('en-US')} rows`);
  mkdirSync(join(ctx.tmp, 'influxd'), { recursive: true });
  mkdirSync(join(ctx.tmp, 'influxd'), { recursive: true });
  const influxd = await startInfluxd({ dir: join(ctx.tmp, 'influxd') });
  try {
    const site = await generateSite({
      dir: join(ctx.tmp, 'site-influx'),
      loadDevices: 2000,
      scryptN: BENCH_SCRYPT_N,
      influx: { url: influxd.url, database: 'carehub_bench' },
    });
    prepareDataDir(site.dataDir, site, rows, 0);
    const hub = await startHub({
      configFile: site.configFile,
      dataDir: site.dataDir,
      logFile: join(ctx.tmp, 'influx-hub.log'),
    });
    let hubRate = Number.NaN;
    let drained = false;
    let shipped: { shippedPoints?: number | undefined; deadLetters?: number | undefined } = {};
    try {
      const t0 = monoMs();
      const deadline = t0 + 600_000;
      let backlog = rows;
      while (monoMs() < deadline) {
        const h = (await hubHealth(hub.httpUrl)) as {
          checks: {
            timeSeries?: { backlogRows: { journal: number }; shippedPoints: number; deadLetters: number };
          };
        };
        backlog = h.checks.timeSeries?.backlogRows.journal ?? backlog;
        shipped = {
          shippedPoints: h.checks.timeSeries?.shippedPoints,
          deadLetters: h.checks.timeSeries?.deadLetters,
        };
        if (backlog === 0) {
          drained = true;
          break;
        }
        await sleep(250);
      }
      const secs = (monoMs() - t0) / 1000;
      hubRate = round((rows - backlog) / secs, 0);
    } finally {
      await hub.stop();
    }
    // Reference: the same points, written straight to influxd, one batch of 1000 at a time.
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(site.dataDir, 'hub.db'), { readonly: true });
    const kinds = new Map<string, string>();
    for (const id of site.allIds)
      kinds.set(
        id,
        id.endsWith('-sos')
          ? 'sos_button'
          : id.endsWith('-door')
            ? 'door_sensor'
            : id.endsWith('-smoke')
              ? 'smoke_detector'
              : 'motion_sensor',
      );
    await fetch(`${influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: 'CREATE DATABASE carehub_ref' }),
    });
    const read = db.prepare<
      [number, number],
      { seq: number; device_id: string; home_id: string; received_at: number; type: string; payload: string }
    >(
      'SELECT seq, device_id, home_id, received_at, type, payload FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
    );
    const t0 = monoMs();
    let cursor = 0;
    let written = 0;
    for (;;) {
      const batch = read.all(cursor, 1000);
      if (batch.length === 0) break;
      const body = batch
        .map((r) => journalPoint(r, (id) => kinds.get(id)))
        .filter((pt) => pt !== undefined)
        .map(toLine)
        .join('\n');
      const res = await fetch(`${influxd.url}/write?db=carehub_ref&precision=ns`, { method: 'POST', body });
      if (!res.ok) throw new Error(`influxd write ${res.status}: ${await res.text()}`);
      written += batch.length;
      cursor = (batch[batch.length - 1] as { seq: number }).seq;
      if (monoMs() - t0 > 600_000) break;
    }
    db.close();
    const refRate = round(written / ((monoMs() - t0) / 1000), 0);
    ctx.log(
      `  drain: hub ${hubRate} rows/s${drained ? '' : ' (not drained within 10 min)'}, direct writes ${refRate} rows/s`,
    );
    const counted = (await influxd.query('carehub_bench', 'SELECT count(value) FROM device_event')).results[0]
      ?.series?.[0]?.values[0]?.[1];
    ctx.details.influxDrain = {
      rows,
      hubRowsPerSecond: hubRate,
      drained,
      ...shipped,
      pointsInInflux: counted ?? null,
      directRowsPerSecond: refRate,
    };
    ctx.figures.push({
      scenario: '5',
      name: `InfluxDB 1.x backlog drain (${rows.toLocaleString('en-US')} journal rows, batch 1000)`,
      unit: 'rows/s',
      hub: hubRate,
      reference: refRate,
      referenceName: 'same points written straight to influxd',
      ratio: ratio(hubRate, refRate),
    });
  } finally {
    await influxd.destroy();
  }
}
