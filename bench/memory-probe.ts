/**
 * Where the hub's memory goes with N devices connected: scenario 3's site, generators, steps and rate,
 * then the hub's resident memory by mapping (/proc/PID/smaps: V8 and malloc in [anon] and [heap],
 * the node binary's pages) and V8's heap spaces from its /metrics, idle and after a hold.
 *
 *   npm run build && node --import tsx bench/memory-probe.ts [DEVICES] [HOLD_SECONDS]
 *
 * Defaults: 19 700 devices, 65 s. Node options for the hub (e.g. --trace-gc, written to the hub
 * log in the temp dir) through CAREHUB_BENCH_HUB_ARGS, as for the bench. Only 127.0.0.0/8 is used.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HubChild, startHub } from './lib/hub-child.js';
import { FeedWatcher, login, Publishers } from './lib/probe.js';
import { rssBytes, sleep } from './lib/proc.js';
import { BENCH_SCRYPT_N, generateSite } from './lib/site.js';
import { connectDevices, sumCounters, Worker } from './lib/workers.js';
import { PARAMS } from './scenarios/params.js';

const { step, generators, connectPerSecond } = PARAMS.full.connections;

/** A whole number from the command line, or exit with the usage. */
function arg(i: number, fallback: number, max: number): number {
  const raw = process.argv[i];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    process.stderr.write(
      `memory-probe: "${raw}" is not a whole number from 0 to ${max}\nusage: node --import tsx bench/memory-probe.ts [DEVICES] [HOLD_SECONDS]\n`,
    );
    process.exit(2);
  }
  return n;
}
// Under the 20 000 open-file limit, as scenario 3.
const devices = arg(2, 19_700, 19_700);
const holdMs = arg(3, 65, 3600) * 1000;

/** Resident KB by mapping name, largest first. */
function residentByMapping(pid: number, top = 8): string {
  const groups = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1] || '[anon]';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) groups.set(name, (groups.get(name) ?? 0) + Number(rss[1]));
  }
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([n, kb]) => `  ${(kb / 1024).toFixed(1).padStart(7)} MB  ${n}`)
    .join('\n');
}

async function heapSpaces(hub: HubChild): Promise<string> {
  const text = await (await fetch(`${hub.httpUrl}/metrics`)).text();
  const used = new Map<string, number>();
  const total = new Map<string, number>();
  for (const m of text.matchAll(
    /^carehub_nodejs_heap_space_size_(used|total)_bytes\{space="(\w+)"\} (\d+)/gm,
  ))
    (m[1] === 'used' ? used : total).set(m[2] as string, Number(m[3]));
  return [...total]
    .filter(([, t]) => t > 0)
    .map(
      ([s, t]) =>
        `  ${s.padEnd(18)} ${((used.get(s) ?? 0) / 2 ** 20).toFixed(1).padStart(7)} of ${(t / 2 ** 20).toFixed(1)} MB`,
    )
    .join('\n');
}

async function report(hub: HubChild, what: string, held: number): Promise<void> {
  const rss = rssBytes(hub.pid);
  const per = held > 0 ? `, ${(rss / 1024 / held).toFixed(1)} KB per device` : '';
  process.stdout.write(
    `== ${what}: RSS ${(rss / 2 ** 20).toFixed(1)} MB${per}\n${residentByMapping(hub.pid)}\n  V8 heap spaces (in use of committed):\n${await heapSpaces(hub)}\n`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'carehub-memory-probe-'));
const site = await generateSite({ dir, loadDevices: devices, scryptN: BENCH_SCRYPT_N });
const hub = await startHub({
  configFile: site.configFile,
  dataDir: site.dataDir,
  logFile: join(dir, 'hub.log'),
});
const workers = Array.from({ length: generators }, (_, g) => new Worker(`mem${g}`));
try {
  const watcher = await FeedWatcher.connect(
    hub.wsUrl,
    await login(hub.httpUrl, site.staff.username, site.staff.password),
  );
  const probes = await Publishers.connect(hub.mqttPort, site.probeIds, site.secret);
  await sleep(2000);
  await report(hub, 'idle (probe devices only)', 0);
  for (let done = 0; done < devices; done += step) {
    const ids = site.loadIds.slice(done, Math.min(done + step, devices));
    await connectDevices(workers, {
      port: hub.mqttPort,
      ids,
      secret: site.secret,
      perSecond: connectPerSecond,
    });
    if (done === 0) await Promise.all(workers.map((w) => w.heartbeats(60_000)));
    process.stdout.write(
      `connected ${done + ids.length}: RSS ${(rssBytes(hub.pid) / 2 ** 20).toFixed(1)} MB\n`,
    );
  }
  await sleep(holdMs);
  const held = sumCounters(await Promise.all(workers.map((w) => w.stats()))).connected;
  await report(hub, `${held} devices held, after ${holdMs / 1000} s`, held);
  await Promise.allSettled([watcher.close(), probes.close()]);
} finally {
  await Promise.allSettled(workers.map((w) => w.close()));
  await hub.stop();
  process.stdout.write(`hub log and data: ${dir}\n`);
}
