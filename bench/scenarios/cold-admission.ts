import { join } from 'node:path';
import { type Ctx, MOSQ, ratio } from '../lib/context.js';
import { type HubChild, startHub } from '../lib/hub-child.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { sourceAddresses } from '../lib/net.js';
import type { TargetKind } from '../lib/session.js';
import { generateSite, type Site } from '../lib/site.js';
import { round } from '../lib/stats.js';
import { Worker } from '../lib/workers.js';

const PRODUCTION_N = 16384;

export interface ColdParams {
  /** Devices connecting at once to the hub with fast hashes, and to Mosquitto. */
  fastDevices: number;
  /** Devices connecting at once to the hub with legacy scrypt entries (~50-70 a second here). */
  scryptDevices: number;
}

export interface ColdRound {
  connected: number;
  ms: number;
  perSecond: number;
  projected10kSeconds: number;
}

export interface ColdAdmission extends ColdRound {
  devices: number;
  /** How the broker's configuration holds the device secrets. */
  hashes: 'fast' | 'scrypt' | 'pbkdf2-sha512';
  scryptN: number;
  /** The hub only: the same hub stopped and started again on the same data dir, every device reconnecting. */
  restart?: ColdRound;
}

/**
 * 4c. Cold admission (`--only=cold`), in one run: the hub with hub-made secrets (fast hashes) beside
 * Mosquitto with the same devices, then the hub with legacy scrypt entries, first start and after a
 * restart.
 */
export async function coldScenario(ctx: Ctx, p: ColdParams): Promise<void> {
  const out: {
    fast?: ColdAdmission | undefined;
    scrypt?: ColdAdmission | undefined;
    ref?: ColdAdmission | undefined;
  } = {};
  const attempt = async (what: string, fn: () => Promise<ColdAdmission>) => {
    try {
      return await fn();
    } catch (err) {
      ctx.log(`  cold admission (${what}): FAILED ${(err as Error).stack ?? err}`);
      ctx.notes.push(`cold admission (${what}) failed: ${(err as Error).message}`);
      return undefined;
    }
  };
  ctx.log(
    `[4c] cold admission: ${p.fastDevices} devices (fast hashes, Mosquitto), ${p.scryptDevices} (scrypt)`,
  );
  out.fast = await attempt('hub, fast hashes', () => measureColdAdmission(ctx, 'hub', p.fastDevices, 'fast'));
  if (!ctx.hubOnly)
    out.ref = await attempt('mosquitto', () => measureColdAdmission(ctx, 'mosquitto', p.fastDevices));
  out.scrypt = await attempt('hub, scrypt', () =>
    measureColdAdmission(ctx, 'hub', p.scryptDevices, 'scrypt'),
  );
  reportCold(ctx, out);
}

function reportCold(
  ctx: Ctx,
  c: {
    fast?: ColdAdmission | undefined;
    scrypt?: ColdAdmission | undefined;
    ref?: ColdAdmission | undefined;
  },
): void {
  ctx.details.coldAdmission = c;
  const ref = c.ref;
  const refName = `${MOSQ} (PBKDF2-SHA512 x101, ${ref?.devices ?? '-'} devices)`;
  const missing = (a: ColdAdmission, r: ColdRound) =>
    r.connected < a.devices ? `; ${a.devices - r.connected} not admitted` : '';
  const figure = (a: ColdAdmission, r: ColdRound, name: string, note: string) =>
    ctx.figures.push({
      scenario: '4c',
      name,
      unit: 'devices/s',
      hub: r.perSecond,
      reference: ref?.perSecond ?? null,
      referenceName: refName,
      ratio: ratio(r.perSecond, ref?.perSecond),
      note: `${note}${missing(a, r)}`,
    });
  const refNote = `Mosquitto ~${ref?.projected10kSeconds ?? '-'} s`;
  if (c.fast?.restart)
    figure(
      c.fast,
      c.fast.restart,
      `cold admission after a hub restart, hub-made secrets with fast hashes (${c.fast.devices} devices at once); 10 000 projected`,
      `10 000 devices: ~${c.fast.restart.projected10kSeconds} s (${refNote})`,
    );
  if (c.fast)
    figure(
      c.fast,
      c.fast,
      `cold admission, first start of a new site, fast hashes (${c.fast.devices} devices heard for the first time)`,
      `10 000 devices: ~${c.fast.projected10kSeconds} s`,
    );
  if (c.scrypt)
    figure(
      c.scrypt,
      c.scrypt,
      `cold admission, legacy scrypt entries N=${c.scrypt.scryptN}, first start (${c.scrypt.devices} devices at once)`,
      `10 000 devices: ~${c.scrypt.projected10kSeconds} s`,
    );
  if (c.scrypt?.restart)
    figure(
      c.scrypt,
      c.scrypt.restart,
      `cold admission after a hub restart, the same scrypt entries (fast verifiers kept in SQLite, ${c.scrypt.devices} devices)`,
      `10 000 devices: ~${c.scrypt.restart.projected10kSeconds} s`,
    );
}

/**
 * A freshly started broker and devices it has never seen, all connecting at once (each: CONNECT,
 * SUBSCRIBE to its commands, retained online status at QoS 1): the admission rate after a restart,
 * when every device reconnects.
 *
 * - `fast`: the hub with hub-made secrets and a fast hash per device (`hmac-sha256$…`), against
 *   Mosquitto with the same accounts (PBKDF2-SHA512 x101).
 * - `scrypt`: the hub with legacy entries, one scrypt hash at the production cost (N=16384) per
 *   device: every device costs one scrypt.
 *
 * The hub runs twice on one data dir: the first start of a new site (every device is heard for the
 * first time: device state, supervision timers, feed entries), then a restart, the case of issue
 * 16 (with scrypt entries of hub-made secrets, each first check kept a fast verifier, so the restart
 * costs no scrypt). Mosquitto keeps nothing between starts.
 */
export async function measureColdAdmission(
  ctx: Ctx,
  kind: TargetKind,
  devices: number,
  hashes: 'fast' | 'scrypt' = 'fast',
): Promise<ColdAdmission> {
  const dir = join(ctx.tmp, `cold-${kind}-${hashes}`);
  const site = await generateSite({ dir, loadDevices: devices, scryptN: PRODUCTION_N, deviceHashes: hashes });
  const label =
    kind === 'hub'
      ? `hub (${site.deviceHashes === 'fast' ? 'fast hashes' : `scrypt N=${PRODUCTION_N}`})`
      : kind;
  const res: ColdAdmission = {
    devices,
    hashes: kind === 'mosquitto' ? 'pbkdf2-sha512' : site.deviceHashes,
    scryptN: PRODUCTION_N,
    ...(await oneRound(ctx, kind, site, dir, label)),
  };
  if (kind === 'hub') {
    res.restart = await oneRound(ctx, kind, site, dir, `${label}, after a restart`);
  }
  return res;
}

async function oneRound(
  ctx: Ctx,
  kind: TargetKind,
  site: Site,
  dir: string,
  label: string,
): Promise<ColdRound> {
  const hub: HubChild | undefined =
    kind === 'hub'
      ? await startHub({ configFile: site.configFile, dataDir: site.dataDir, logFile: join(dir, 'hub.log') })
      : undefined;
  const mosq = kind === 'mosquitto' ? await startMosquitto(dir, site.allIds, site.secret) : undefined;
  const worker = new Worker('cold');
  try {
    const port = hub ? hub.mqttPort : (mosq?.port ?? 0);
    const r = await worker.connect({
      host: '127.0.0.1',
      port,
      localAddresses: sourceAddresses(7),
      ids: site.loadIds,
      secret: site.secret,
      perSecond: 1_000_000,
      concurrency: 1_000_000,
      announce: true,
      timeoutMs: 120_000,
      deadlineMs: 150_000,
    });
    const perSecond = round((r.connected * 1000) / r.ms, 0);
    const res: ColdRound = {
      connected: r.connected,
      ms: round(r.ms, 0),
      perSecond,
      projected10kSeconds: round(10_000 / Math.max(1, perSecond), 1),
    };
    ctx.log(
      `  ${label} cold admission: ${r.connected}/${site.loadIds.length} in ${res.ms} ms = ${perSecond}/s${r.failed ? `, failed ${JSON.stringify(r.errors)}` : ''}`,
    );
    return res;
  } finally {
    await worker.close();
    await hub?.stop();
    await mosq?.stop();
  }
}
