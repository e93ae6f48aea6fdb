/**
 * MQTT fuzzing at volume: `npx tsx bench/fuzz-mqtt.ts [--runs 100000] [--concurrency 64] [--seed N] [--idle-ms 150]`
 * (build first: `npm run build`). The CI test (test/integration/mqtt-fuzz.test.ts) runs 5 000
 * mutations in-process; this runs the hub as its own process (`node bin/carehub.js start`, demo site,
 * flapping bans off, the fuzzed device on a cheap scrypt cost) and throws the malformed-packet table
 * and `--runs` fast-check mutations of valid packet sequences at it over 127.0.0.1, while a device
 * stays connected. It prints throughput, the hub's RSS (its own /metrics), the close reasons the hub
 * logged, and fails (exit 1) if the hub died, stopped answering, grew past --max-rss-mb, left a
 * connection unlogged, or the bystander device could not get an SOS through at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { parseDocument, stringify } from 'yaml';
import { hashSecret } from '../hub/src/auth/secrets.js';
import {
  type Creds,
  fuzzCaseArb,
  malformedCases,
  mutate,
  pool,
  runRaw,
  seeds,
} from '../test/helpers/mqtt-fuzz-cases.js';

const ROOT = join(import.meta.dirname, '..');
const FUZZ = 'h2-door';
const CREDS: Creds = { clientId: FUZZ, username: FUZZ, password: `${FUZZ}-demo` };
const topic = (id: string, ch: string) => `carehub/v1/devices/${id}/${ch}`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'idle-ms': { type: 'string', default: '150' },
    'max-rss-mb': { type: 'string', default: '512' },
  },
});
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const SEED = Number(values.seed);
const IDLE_MS = Number(values['idle-ms']);
const MAX_RSS = Number(values['max-rss-mb']) * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  if (!existsSync(join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'carehub-fuzz-'));
  let child: ChildProcess | undefined;
  try {
    // the demo site, with the fuzzed device on a cheap scrypt cost and the flapping bans off
    const raw = parseDocument(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')).toJS() as Record<
      string,
      unknown
    >;
    const cheap = await hashSecret(CREDS.password, { N: 1024, r: 8, p: 1, keyLen: 32 });
    for (const home of raw.homes as Array<{ devices: Array<{ id: string; secretHash: string }> }>) {
      for (const d of home.devices) if (d.id === FUZZ) d.secretHash = cheap;
    }
    raw.http = { ...((raw.http as object | undefined) ?? {}), host: '127.0.0.1' };
    raw.mqtt = {
      ...((raw.mqtt as object | undefined) ?? {}),
      host: '127.0.0.1',
      limits: { flapMaxConnectsPerAddress: 0, flapMaxConnectsPerClient: 0 },
    };
    const config = join(dir, 'fuzz.yaml');
    writeFileSync(config, stringify(raw));

    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAREHUB_')) env[k] = v;
    Object.assign(env, {
      CAREHUB_MQTT_PORT: '0',
      CAREHUB_HTTP_PORT: '0',
      CAREHUB_DATA_DIR: join(dir, 'data'),
      CAREHUB_LOG_LEVEL: 'info',
    });
    const hub = spawn(process.execPath, [join(ROOT, 'bin', 'carehub.js'), 'start', '--config', config], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = hub;
    let exited = false;
    hub.once('exit', () => {
      exited = true;
    });
    const reasons = new Map<string, number>();
    const closedPorts = new Set<number>();
    let closeLines = 0;
    let rest = '';
    hub.stdout?.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.includes('"mqtt connection closed"')) continue;
        const j = JSON.parse(l) as { reason?: string; remote?: string };
        closeLines++;
        reasons.set(String(j.reason), (reasons.get(String(j.reason)) ?? 0) + 1);
        const port = Number(/:(\d+)$/.exec(j.remote ?? '')?.[1] ?? 0);
        if (port) closedPorts.add(port);
      }
    });
    let stderr = '';
    hub.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-10_000);
    });

    let ports: { mqtt: number; http: number } | undefined;
    for (let i = 0; i < 300 && !ports && !exited; i++) {
      try {
        ports = JSON.parse(readFileSync(join(dir, 'data', 'ports.json'), 'utf8')) as {
          mqtt: number;
          http: number;
        };
      } catch {
        await sleep(50);
      }
    }
    if (!ports) {
      console.error(`the hub did not start:\n${stderr}`);
      return 1;
    }
    const http = `http://127.0.0.1:${ports.http}`;
    const rss = async (): Promise<number> => {
      const text = await (await fetch(`${http}/metrics`)).text();
      return Number(/^carehub_process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0);
    };

    const bystander = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
      clientId: 'h1-sos',
      username: 'h1-sos',
      password: 'h1-sos-demo',
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    let bystanderCloses = 0;
    bystander.on('close', () => bystanderCloses++);

    const rssStart = await rss();
    let rssMax = rssStart;
    const started = Date.now();
    // the table first
    const table = malformedCases(CREDS, topic(FUZZ, 'events'));
    const tableRuns = await pool(table, 8, (c) => runRaw(ports.mqtt, c.bytes, 2000));
    const tableOpen = table.filter((_, i) => !tableRuns[i]?.closedByHub).map((c) => c.name);

    // then the mutations, in slices of 10 000
    const valid = seeds(CREDS, topic(FUZZ, 'events'), topic(FUZZ, 'status'), topic(FUZZ, 'commands'));
    const allPorts: number[] = tableRuns.map((r) => r.localPort);
    let closedByHub = 0;
    for (let done = 0; done < RUNS; ) {
      const n = Math.min(10_000, RUNS - done);
      const cases = fc.sample(fuzzCaseArb(valid.length), { numRuns: n, seed: SEED + done });
      const runs = await pool(cases, CONCURRENCY, (c) =>
        runRaw(ports.mqtt, mutate(valid[c.seed] as Buffer, c.mutations), IDLE_MS),
      );
      for (const r of runs) {
        allPorts.push(r.localPort);
        if (r.closedByHub) closedByHub++;
      }
      done += n;
      if (exited) break;
      rssMax = Math.max(rssMax, await rss());
      const s = (Date.now() - started) / 1000;
      console.log(
        `${done} mutations, ${(done / s).toFixed(0)}/s, hub RSS ${(rssMax / 1e6).toFixed(0)} MB max`,
      );
    }
    const elapsed = (Date.now() - started) / 1000;
    await sleep(1000);

    const problems: string[] = [];
    if (exited) problems.push(`the hub exited:\n${stderr}`);
    const health = await fetch(`${http}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (health !== 200) problems.push(`/healthz answered ${health}`);
    if (rssMax > MAX_RSS) problems.push(`hub RSS reached ${(rssMax / 1e6).toFixed(0)} MB`);
    if (tableOpen.length) problems.push(`malformed packets left open: ${tableOpen.join(', ')}`);
    // ports repeat over 100 000 connections: every port seen, and at least one line per connection
    const unlogged = allPorts.filter((p) => !closedPorts.has(p)).length;
    if (unlogged > 0 || closeLines < allPorts.length)
      problems.push(
        `${unlogged} ports without a "mqtt connection closed" line; ${closeLines} lines for ${allPorts.length} connections`,
      );
    if (bystanderCloses > 0 || !bystander.connected) problems.push('the bystander device was disconnected');
    try {
      await Promise.race([
        bystander.publishAsync(
          topic('h1-sos', 'events'),
          JSON.stringify({ type: 'sos.pressed', id: `fuzz-end-${SEED}` }),
          { qos: 1 },
        ),
        sleep(5000).then(() => Promise.reject(new Error('no PUBACK'))),
      ]);
    } catch (err) {
      problems.push(`the bystander's SOS: ${(err as Error).message}`);
    }
    await bystander.endAsync();

    console.log(
      `\nMQTT fuzz (seed ${SEED}): ${table.length} table cases + ${RUNS} mutations in ${elapsed.toFixed(1)} s (${((table.length + RUNS) / elapsed).toFixed(0)}/s), ` +
        `${closedByHub} mutations closed by the hub; hub RSS ${(rssStart / 1e6).toFixed(0)} → ${(rssMax / 1e6).toFixed(0)} MB max; ${closeLines} close lines logged`,
    );
    console.log(
      'close reasons (top 25):',
      Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 25)),
    );
    if (problems.length) {
      console.error(`\nFAILED:\n- ${problems.join('\n- ')}`);
      return 1;
    }
    console.log('\nOK: hub up, RSS bounded, every connection logged with a reason, bystander served');
    return 0;
  } finally {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child?.once('exit', r));
      child.kill('SIGKILL');
      await Promise.race([gone, sleep(3000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
