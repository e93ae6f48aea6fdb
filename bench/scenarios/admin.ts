import { join } from 'node:path';
import type { Ctx } from '../lib/context.js';
import { login, probeSos } from '../lib/probe.js';
import { CpuMeter, monoMs, sleep } from '../lib/proc.js';
import { openSession, type Session } from '../lib/session.js';
import { BENCH_SCRYPT_N, generateSite, homeId, RESERVED_HOMES } from '../lib/site.js';
import { round, type Summary, summarize } from '../lib/stats.js';

export interface AdminParams {
  loadDevices: number;
  generators: number;
  connectPerSecond: number;
  /** Background device events/s (scenario 2's middle level). */
  background: number;
  settleMs: number;
  /**
   * SOS probing time without changes, and the same with one change every `changeEveryMs`, each
   * split into `rounds` alternating windows.
   */
  phaseMs: number;
  rounds: number;
  everyMs: number;
  changeEveryMs: number;
}

interface Phase {
  latency: Summary;
  presses: number;
  lost: number;
  backgroundAchieved: number;
  cores: number;
}

type Op = 'add home' | 'patch address' | 'add device' | 'retire device';
interface Change {
  op: Op;
  status: number;
  ms: number;
}

/**
 * One directory change through the real admin API, in turn: a new home, a load home's new address,
 * a device added to the new home (the hub makes its secret), that device retired. Each is one
 * request and one `directory` entry of the hub's log.
 */
async function change(httpUrl: string, token: string, n: number): Promise<Change> {
  const k = Math.floor(n / 4);
  const home = `adm${k}`;
  const ops: Array<[Op, string, string, unknown]> = [
    [
      'add home',
      'POST',
      '/api/v1/homes',
      {
        id: home,
        address: `Admin Road ${k}`,
        grid: 'g1',
        residents: [{ id: `${home}-r`, name: `Resident ${k}`, birthYear: 1940 }],
        contacts: [],
      },
    ],
    ['patch address', 'PATCH', `/api/v1/homes/${homeId(RESERVED_HOMES + k)}`, { address: `Moved Road ${k}` }],
    ['add device', 'POST', `/api/v1/homes/${home}/devices`, { id: `${home}-sos`, kind: 'sos_button' }],
    ['retire device', 'DELETE', `/api/v1/devices/${home}-sos`, undefined],
  ];
  const [op, method, path, body] = ops[n % 4] as (typeof ops)[number];
  const t0 = monoMs();
  const res = await fetch(`${httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return { op, status: res.status, ms: monoMs() - t0 };
}

/** What one kind of window (with or without changes) gathered over all its windows. */
class Tally {
  latencies: number[] = [];
  presses = 0;
  lost = 0;
  acked = 0;
  wallMs = 0;
  cpuMs = 0;

  /** SOS probes for one window at the background rate already running, with CPU and the achieved rate. */
  async window(s: Session, ms: number, everyMs: number): Promise<void> {
    const a0 = (await s.counters()).acked;
    const cpu = new CpuMeter(s.pid).start();
    const probe = await probeSos(s.probes, s.watcher, ms, everyMs);
    const used = cpu.read();
    this.acked += (await s.counters()).acked - a0;
    this.wallMs += used.wallMs;
    this.cpuMs += used.cpuUs / 1000;
    this.latencies.push(...probe.latencies);
    this.presses += probe.presses;
    this.lost += probe.lost;
  }

  phase(): Phase {
    return {
      latency: summarize(this.latencies),
      presses: this.presses,
      lost: this.lost,
      backgroundAchieved: round((this.acked * 1000) / Math.max(1, this.wallMs), 0),
      cores: round(this.cpuMs / Math.max(1, this.wallMs), 2),
    };
  }
}

/**
 * 9. Site administration under load (issue 18): scenario 2's 10 000 load devices sending at its
 * middle rate, SOS presses timed publish → duty feed as scenario 2 times them, in alternating
 * windows without directory changes (the baseline, same run) and with an admin applying one change
 * a second through the HTTP API. Hub only: Mosquitto has no directory to change.
 */
export async function adminScenario(ctx: Ctx, p: AdminParams): Promise<void> {
  const site = await generateSite({
    dir: join(ctx.tmp, 'site-admin'),
    loadDevices: p.loadDevices,
    scryptN: BENCH_SCRYPT_N,
    admin: true,
  });
  let s: Session | undefined;
  let baseline: Phase;
  let during: Phase;
  const changes: Change[] = [];
  try {
    ctx.log(
      `[9] hub: ${p.loadDevices} devices, ${p.background} events/s, one directory change per ${p.changeEveryMs} ms`,
    );
    s = await openSession({
      kind: 'hub',
      site,
      dir: join(ctx.tmp, 'admin-hub'),
      loadDevices: p.loadDevices,
      generators: p.generators,
      connectPerSecond: p.connectPerSecond,
      cpuProfDir: ctx.profile ? join(ctx.tmp, 'profiles', 'admin') : undefined,
      log: ctx.log,
    });
    const hub = s.hub;
    if (!hub || !site.admin) throw new Error('scenario 9 needs the hub and an admin');
    const token = await login(hub.httpUrl, site.admin.username, site.admin.password);
    const session = s;
    const per = p.background / s.workers.length;
    await Promise.all(
      s.workers.map((w) =>
        w.load({ mode: 'rate', perSecond: per, maxInflight: Math.max(200, Math.ceil(per)) }),
      ),
    );
    await sleep(p.settleMs);
    // Windows without and with changes alternate (A B B A A B …), so a drift in the machine's
    // other load falls on both alike.
    const quiet = new Tally();
    const busy = new Tally();
    let n = 0;
    const windowMs = p.phaseMs / p.rounds;
    for (let r = 0; r < p.rounds; r++) {
      for (const withChanges of r % 2 === 0 ? [false, true] : [true, false]) {
        if (!withChanges) {
          await quiet.window(session, windowMs, p.everyMs);
          continue;
        }
        let stop = false;
        // One change per tick, each awaited: a slow answer delays the next, never piles requests up.
        const admin = (async () => {
          const t0 = monoMs();
          for (let i = 1; !stop; i++) {
            changes.push(await change(hub.httpUrl, token, n++));
            const next = t0 + i * p.changeEveryMs;
            while (!stop && monoMs() < next) await sleep(Math.min(50, next - monoMs()));
          }
        })();
        await busy.window(session, windowMs, p.everyMs).finally(() => {
          stop = true;
        });
        await admin;
      }
    }
    await Promise.all(s.workers.map((w) => w.stopLoad()));
    baseline = quiet.phase();
    during = busy.phase();
    ctx.log(
      `  no changes: SOS p50 ${round(baseline.latency.p50)} p99 ${round(baseline.latency.p99)} max ${round(baseline.latency.max)} ms, lost ${baseline.lost}/${baseline.presses}, bg ${baseline.backgroundAchieved}/s`,
    );
    ctx.log(
      `  one change/s: SOS p50 ${round(during.latency.p50)} p99 ${round(during.latency.p99)} max ${round(during.latency.max)} ms, lost ${during.lost}/${during.presses}, bg ${during.backgroundAchieved}/s; ${changes.length} changes`,
    );
  } finally {
    await s?.close();
  }
  const refused = changes.filter((c) => c.status >= 300);
  const answers = summarize(changes.map((c) => c.ms));
  const byOp: Record<string, Summary> = {};
  for (const op of new Set(changes.map((c) => c.op)))
    byOp[op] = summarize(changes.filter((c) => c.op === op).map((c) => c.ms));
  ctx.details.admin = { params: p, baseline, during, changes: answers, byOp, refused };
  if (refused.length)
    ctx.notes.push(
      `scenario 9: ${refused.length} directory changes refused: ${JSON.stringify(refused.slice(0, 4))}`,
    );
  const lat = (x: Phase) =>
    `${round(x.latency.p50)} / ${round(x.latency.p95)} / ${round(x.latency.p99)} / ${round(x.latency.max)}`;
  const lostNote = (x: Phase) => (x.lost > 0 ? `, ${x.lost} presses not on the feed within 10 s` : '');
  ctx.figures.push(
    {
      scenario: '9',
      name: `SOS publish -> feed p50/p95/p99/max @ ${p.background} bg ev/s, one directory change/s (achieved ${during.backgroundAchieved} / ${baseline.backgroundAchieved} without)`,
      unit: 'ms',
      hub: lat(during),
      reference: lat(baseline),
      referenceName: 'no changes (same run)',
      ratio: during.latency.p99 / baseline.latency.p99,
      note: `${p.loadDevices} devices; ${during.presses} and ${baseline.presses} presses${lostNote(during)}${lostNote(baseline)}; hub ${during.cores} / ${baseline.cores} cores`,
    },
    {
      scenario: '9',
      name: 'directory change answer p50/p99/max (add home, patch address, add device, retire device)',
      unit: 'ms',
      hub: `${round(answers.p50)} / ${round(answers.p99)} / ${round(answers.max)}`,
      reference: null,
      referenceName: '-',
      note: `${changes.length} changes${refused.length ? `, ${refused.length} refused` : ''}; p50 per kind: ${Object.entries(
        byOp,
      )
        .map(([op, x]) => `${op} ${round(x.p50)}`)
        .join(', ')}`,
    },
  );
}
