import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { hashSecret } from '../../hub/src/auth/secrets.js';
import { createLogger } from '../../hub/src/log.js';
import { useCleanup } from '../helpers/cleanup.js';
import { connectDevice, demoRaw, startHub, type TestHub } from '../helpers/hub.js';
import {
  type Creds,
  fuzzCaseArb,
  malformedCases,
  mutate,
  pool,
  type RawRun,
  runRaw,
  seeds,
} from '../helpers/mqtt-fuzz-cases.js';

/**
 * MQTT fuzzing against a real hub on 127.0.0.1: a table of malformed packets, each of which must end
 * the connection within a bound with its reason logged, and 5 000 fast-check mutations of valid packet
 * sequences (bench/fuzz-mqtt.ts runs 100 000+). The hub stays up, its RSS stays bounded, and a device
 * connected all along still gets an SOS through at the end.
 */

interface LogLine {
  msg?: string;
  remote?: string;
  reason?: string;
  [k: string]: unknown;
}

const FUZZ = 'h2-door';
const FUZZ_CREDS: Creds = { clientId: FUZZ, username: FUZZ, password: `${FUZZ}-demo` };
const topics = (id: string) => ({
  events: `carehub/v1/devices/${id}/events`,
  status: `carehub/v1/devices/${id}/status`,
  commands: `carehub/v1/devices/${id}/commands`,
});
const MUTATIONS = 5000;
const SEED = 20261126;

function capture(): { stream: { write(s: string): void }; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    stream: {
      write(s: string) {
        for (const l of s.split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      },
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The hub's "connection closed" line for the connection from `localPort`. */
function closeLine(lines: LogLine[], localPort: number): LogLine | undefined {
  const remote = `127.0.0.1:${localPort}`;
  return lines.find((l) => l.msg === 'mqtt connection closed' && l.remote === remote);
}

describe('MQTT fuzzing', () => {
  const cleanup = useCleanup();

  /** The demo hub, with the fuzzing device on a cheap scrypt cost (mutated passwords are verified thousands of times) and the flapping ban off (thousands of junk connections from 127.0.0.1 are the point here). */
  async function fuzzHub(): Promise<{ t: TestHub; lines: LogLine[] }> {
    const raw = demoRaw();
    const cheap = await hashSecret(`${FUZZ}-demo`, { N: 1024, r: 8, p: 1, keyLen: 32 });
    for (const home of raw.homes as Array<{ devices: Array<{ id: string; secretHash: string }> }>) {
      for (const d of home.devices) if (d.id === FUZZ) d.secretHash = cheap;
    }
    raw.mqtt = {
      ...((raw.mqtt as object | undefined) ?? {}),
      limits: { flapMaxConnectsPerAddress: 0, flapMaxConnectsPerClient: 0 },
    };
    const log = capture();
    const t = await startHub({ raw, logger: createLogger('info', log.stream) });
    cleanup.push(() => t.stop());
    return { t, lines: log.lines };
  }

  async function bystander(
    t: TestHub,
  ): Promise<{ client: MqttClient; closes: () => number; commands: string[] }> {
    const client = await connectDevice(t.mqttUrl, 'h1-sos', { protocolVersion: 4, keepalive: 0 });
    cleanup.push(() => client.endAsync(true));
    let closes = 0;
    client.on('close', () => closes++);
    const commands: string[] = [];
    client.on('message', (_topic, payload) => commands.push(String(payload)));
    await client.subscribeAsync(topics('h1-sos').commands, { qos: 1 });
    return { client, closes: () => closes, commands };
  }

  async function stillServes(
    t: TestHub,
    b: Awaited<ReturnType<typeof bystander>>,
    id: string,
  ): Promise<void> {
    const health = await fetch(`${t.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    expect(b.closes()).toBe(0);
    expect(b.client.connected).toBe(true);
    const acked = b.client.publishAsync(
      topics('h1-sos').events,
      JSON.stringify({ type: 'sos.pressed', id }),
      { qos: 1 },
    );
    await Promise.race([
      acked,
      sleep(5000).then(() => Promise.reject(new Error('no PUBACK for the bystander'))),
    ]);
    await expect
      .poll(() => b.commands.some((c) => c.includes('"alert.received"')), { timeout: 5000 })
      .toBe(true);
  }

  it('closes the connection within 2 s for every malformed packet of the table, and logs the reason', async () => {
    const { t, lines } = await fuzzHub();
    const b = await bystander(t);
    const cases = malformedCases(FUZZ_CREDS, topics(FUZZ).events);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    // One at a time: the cases log in as the same device, and a second login of a device closes the
    // first connection (session_taken_over) before its malformed packet could be judged.
    const runs = await pool(cases, 1, (c) => runRaw(t.hub.ports.mqtt, c.bytes, 2000));
    await sleep(100);
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const run = runs[i] as RawRun;
      if (!run.closedByHub) failures.push(`${c.name}: still open after 2 s`);
      const line = closeLine(lines, run.localPort);
      if (!line) failures.push(`${c.name}: no "mqtt connection closed" line for port ${run.localPort}`);
      else if (!c.reason.test(String(line.reason)))
        failures.push(`${c.name}: logged reason "${line.reason}", expected ${c.reason}`);
    });
    expect(failures).toEqual([]);
    // MQTT 5 is refused politely: CONNACK 1 (unacceptable protocol version), then closed
    const v5 = runs[cases.findIndex((c) => c.name.startsWith('MQTT 5'))] as RawRun;
    expect([...v5.received.subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x01]);
    expect(t.hub.broker.aedes.connectedClients).toBe(1);
    await stillServes(t, b, 'after-table');
  });

  it(`survives ${MUTATIONS} mutated packet sequences: up, RSS bounded, every close logged with a reason, others unaffected`, {
    timeout: 120_000,
  }, async () => {
    const { t, lines } = await fuzzHub();
    const b = await bystander(t);
    const valid = seeds(FUZZ_CREDS, topics(FUZZ).events, topics(FUZZ).status, topics(FUZZ).commands);
    const cases = fc.sample(fuzzCaseArb(valid.length), { numRuns: MUTATIONS, seed: SEED });
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }, 100);
    cleanup.push(() => clearInterval(sampler));
    const started = Date.now();
    const runs = await pool(cases, 32, (c) =>
      runRaw(t.hub.ports.mqtt, mutate(valid[c.seed] as Buffer, c.mutations), 150),
    );
    const elapsed = Date.now() - started;
    clearInterval(sampler);

    // every connection, closed by the hub or by us, has its "closed" line with a reason
    const missing = () => runs.filter((r) => !closeLine(lines, r.localPort)).length;
    await expect.poll(missing, { timeout: 10_000 }).toBe(0);
    const reasons = new Map<string, number>();
    for (const r of runs) {
      const reason = String(closeLine(lines, r.localPort)?.reason ?? '');
      expect(reason.length).toBeGreaterThan(0);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    const closedByHub = runs.filter((r) => r.closedByHub).length;
    const grown = rssMax - rssBefore;
    console.log(
      `mqtt fuzz: ${runs.length} mutations in ${elapsed} ms, ${closedByHub} closed by the hub, RSS +${(grown / 1e6).toFixed(1)} MB (max ${(rssMax / 1e6).toFixed(0)} MB); reasons:`,
      Object.fromEntries([...reasons].sort((x, y) => y[1] - x[1]).slice(0, 25)),
    );
    expect(runs).toHaveLength(MUTATIONS);
    // the mutations reach the parser and the guards, not just the socket: many distinct reasons
    expect(closedByHub).toBeGreaterThan(MUTATIONS / 4);
    expect(reasons.size).toBeGreaterThanOrEqual(10);
    // RSS bounded: generous, the test runner and 32 sockets share this process
    expect(grown, `RSS grew by ${(grown / 1e6).toFixed(1)} MB`).toBeLessThan(256 * 1024 * 1024);
    // nothing left behind: only the bystander is connected
    await expect.poll(() => t.hub.broker.aedes.connectedClients, { timeout: 5000 }).toBe(1);
    await stillServes(t, b, 'after-mutations');
  });
});
