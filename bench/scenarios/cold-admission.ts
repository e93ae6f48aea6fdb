import { join } from 'node:path';
import type { Ctx } from '../lib/context.js';
import { startHub } from '../lib/hub-child.js';
import { startMosquitto } from '../lib/mosquitto.js';
import { sourceAddresses } from '../lib/net.js';
import type { TargetKind } from '../lib/session.js';
import { generateSite } from '../lib/site.js';
import { round } from '../lib/stats.js';
import { Worker } from '../lib/workers.js';
import type { ColdAdmission } from './storms.js';

export type { ColdAdmission };

const PRODUCTION_N = 16384;

/**
 * A freshly started broker and devices it has never seen, all connecting at once: for the hub every
 * first connection costs one scrypt at the production cost (N=16384), so this is the admission rate
 * after a hub restart, when every device reconnects.
 */
export async function measureColdAdmission(
  ctx: Ctx,
  kind: TargetKind,
  devices: number,
): Promise<ColdAdmission> {
  const dir = join(ctx.tmp, `cold-${kind}`);
  const site = await generateSite({ dir, loadDevices: devices, scryptN: PRODUCTION_N });
  const hub =
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
    const res: ColdAdmission = {
      devices,
      scryptN: PRODUCTION_N,
      connected: r.connected,
      ms: round(r.ms, 0),
      perSecond,
      projected10kSeconds: round(10_000 / Math.max(1, perSecond), 0),
    };
    ctx.log(
      `  ${kind} cold admission: ${r.connected}/${devices} in ${res.ms} ms = ${perSecond}/s${r.failed ? `, failed ${JSON.stringify(r.errors)}` : ''}`,
    );
    return res;
  } finally {
    await worker.close();
    await hub?.stop();
    await mosq?.stop();
  }
}
