import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { api, demoRaw, login } from '../helpers/hub.js';
import { type HubChild, ROOT, startHubChild } from '../helpers/hub-process.js';
import { notifyRaw, verifyWebhook, WEBHOOK_SECRET } from '../helpers/notify-servers.js';

/**
 * Issue 20, "the hub killed with deliveries pending: nothing lost, nothing doubled". A real hub
 * process (`carehub start`, the build in dist/) on the drill clock sends to a local Standard
 * Webhooks receiver and a real SMTP server (the `smtp-server` package) on loopback, and is killed
 * with SIGKILL five times: before a step is due, with deliveries failed once and waiting to retry,
 * with sends in flight the receivers had not taken, with sends the receivers had taken but whose
 * answers the hub never read, and right after a step fell due. It restarts on the same data dir.
 *
 * The guarantee (docs/notifications.md): at least once, with a stable idempotency key. Every
 * (alert, step, contact, channel) arrives; a delivery is sent again only when a kill lands between
 * the receiver taking it and the hub recording the answer, and then with the same `webhook-id` and
 * the same email `Message-ID`, so a receiver that drops repeats of an id sees it exactly once.
 * Nothing goes out for an alert acknowledged before its step.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What a receiver does with what arrives. fail: refuses for now (HTTP 500, SMTP 451). ignore:
 * never answers and does not take it (a send in flight). take-hold: takes it and holds the answer
 * until release() (the answer is lost when the hub dies meanwhile). ok: takes it and answers.
 */
type Mode = 'fail' | 'ignore' | 'take-hold' | 'ok';

/** A delivery a receiver took (processed): its idempotency key, and the mode it came in. */
interface Taken {
  id: string;
  mode: Mode;
}

/** A Standard Webhooks endpoint on loopback: verifies each request with the package's verifier. */
class HookReceiver {
  mode: Mode = 'ok';
  readonly arrived: string[] = [];
  readonly taken: Taken[] = [];
  readonly badSignatures: string[] = [];
  readonly #held: ServerResponse[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = String(req.headers['webhook-id'] ?? '');
        this.arrived.push(id);
        try {
          verifyWebhook(WEBHOOK_SECRET, {
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            status: 0,
          });
        } catch {
          this.badSignatures.push(id);
          res.writeHead(400).end();
          return;
        }
        const mode = this.mode;
        if (mode === 'fail') res.writeHead(500).end('not now');
        if (mode === 'ignore' || mode === 'fail') return;
        this.taken.push({ id, mode });
        if (mode === 'take-hold') this.#held.push(res);
        else res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    this.#server = server;
  }

  /** The held answers go out (to a hub that may be gone). */
  release(): void {
    for (const res of this.#held.splice(0)) res.writeHead(200).end('{}');
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/** A real SMTP server on loopback; a mail is taken when the server says 250 to its DATA. */
class MailReceiver {
  mode: Mode = 'ok';
  readonly arrived: string[] = [];
  readonly taken: Taken[] = [];
  readonly #held: Array<() => void> = [];
  #server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 200,
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const head = (
            Buffer.concat(chunks)
              .toString('utf8')
              .split(/\r?\n\r?\n/)[0] ?? ''
          ).replace(/\r?\n[ \t]+/g, ' ');
          const id = /^Message-ID:\s*<([^>]*)>/im.exec(head)?.[1] ?? '';
          this.arrived.push(id);
          const mode = this.mode;
          if (mode === 'fail') {
            const err = Object.assign(new Error('try again later'), { responseCode: 451 });
            callback(err);
            return;
          }
          if (mode === 'ignore') return;
          this.taken.push({ id, mode });
          if (mode === 'take-hold') this.#held.push(() => callback());
          else callback();
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** The held 250s go out (to a hub that may be gone). */
  release(): void {
    for (const accept of this.#held.splice(0)) {
      try {
        accept();
      } catch {
        // the connection is gone with the hub
      }
    }
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Delivery {
  id: string;
  step: number;
  channel: string;
  status: string;
  attempts: number;
}
interface Attempt {
  delivery: string;
  attempt: number;
  result: string;
}

const hook = new HookReceiver();
const mail = new MailReceiver();
const children = new Set<ChildProcess>();
let dir = '';

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'hub', 'src', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` before this test (`npm test` does)');
  await Promise.all([hook.start(), mail.start()]);
  dir = mkdtempSync(join(tmpdir(), 'carehub-notify-kill-'));
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  hook.release();
  mail.release();
  await Promise.all([hook.stop(), mail.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The demo site with notifications on, every home with the same three contacts: family (email and
 * webhook) at 60 s, grid worker (webhook) at 180 s, neighbour with a key (email) at 300 s.
 */
function writeConfig(): string {
  const raw = notifyRaw(demoRaw(), { smtpPort: mail.port, webhook: hook.url }) as {
    homes: Array<{ id: string; contacts: unknown }>;
  };
  const h1 = raw.homes.find((h) => h.id === 'h1');
  if (!h1) throw new Error('the demo has no home h1');
  for (const h of raw.homes)
    if (h !== h1)
      h.contacts = (h1.contacts as Array<Record<string, unknown>>).map((c) => ({
        ...c,
        ...(c.email ? { email: String(c.email).replace('@', `+${h.id}@`) } : {}),
      }));
  const file = join(dir, 'carehub.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

describe('notifications across kill -9', () => {
  it('every delivery arrives, each once per webhook-id / Message-ID; nothing for an alert acknowledged before its step', {
    timeout: 60_000,
  }, async () => {
    const config = writeConfig();
    const dataDir = join(dir, 'data');
    let hub: HubChild;
    let token = '';
    let kills = 0;

    const start = async () => {
      hub = await startHubChild(config, dataDir, {
        env: { CAREHUB_CLOCK: 'manual' },
        onSpawn: (c) => children.add(c),
      });
      token = await login(hub.httpUrl, 'supervisor1');
    };
    const kill = async () => {
      hub.child.kill('SIGKILL');
      const { signal } = await hub.exited;
      expect(signal).toBe('SIGKILL');
      children.delete(hub.child);
      kills++;
    };
    const advance = async (ms: number) => {
      const r = await api(hub.httpUrl, token, '/api/v1/clock/advance', { body: { ms } });
      expect(r.status).toBe(200);
    };
    const notifications = async (alertId: string) =>
      (
        await api<{ deliveries: Delivery[]; attempts: Attempt[] }>(
          hub.httpUrl,
          token,
          `/api/v1/alerts/${alertId}/notifications`,
        )
      ).body;
    const rows = async (ids: Record<string, string>) =>
      (await Promise.all(Object.values(ids).map(notifications))).flatMap((n) => n.deliveries);
    const until = async (what: string, ok: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 200; i++) {
        if (await ok()) return;
        await sleep(50);
      }
      throw new Error(`timed out waiting for: ${what}\n${hub.output()}`);
    };
    const press = async (home: string): Promise<string> => {
      const device = await mqtt.connectAsync(hub.mqttUrl, {
        clientId: `${home}-sos`,
        username: `${home}-sos`,
        password: `${home}-sos-demo`,
        reconnectPeriod: 0,
      });
      await device.publishAsync(
        `carehub/v1/devices/${home}-sos/events`,
        JSON.stringify({ type: 'sos.pressed', id: `kill-${home}` }),
        { qos: 1 },
      );
      await device.endAsync();
      let id: string | undefined;
      await until(`the SOS alert of ${home}`, async () => {
        const r = await api<{ alerts: Array<{ id: string }> }>(
          hub.httpUrl,
          token,
          `/api/v1/alerts?kind=sos&homeId=${home}&status=open`,
        );
        id = r.body.alerts[0]?.id;
        return id !== undefined;
      });
      return id as string;
    };
    const ack = async (alertId: string) => {
      const r = await api(hub.httpUrl, token, `/api/v1/alerts/${alertId}/ack`, { body: {} });
      expect(r.status).toBe(200);
    };

    await start();
    // Drill time well ahead of real time: a restart resumes the drill clock where it was.
    await advance(3_600_000);
    const alert = { h1: await press('h1'), h2: await press('h2'), h3: await press('h3') };
    const step1 = [
      `${alert.h1}.1.0.email`,
      `${alert.h1}.1.0.webhook`,
      `${alert.h2}.1.0.email`,
      `${alert.h2}.1.0.webhook`,
    ];

    // Kill 1, before any step is due: h3 acknowledged (before its first step), the ladders stored.
    await advance(30_000);
    await ack(alert.h3);
    await kill();

    // Kill 2, with the first step's four deliveries failed once and waiting for their retry.
    hook.mode = 'fail';
    mail.mode = 'fail';
    await start();
    await advance(30_000);
    await until('four first attempts recorded', async () => {
      const r = await rows(alert);
      return r.length === 4 && r.every((d) => d.status === 'pending' && d.attempts === 1);
    });
    expect((await rows(alert)).map((d) => d.id).sort()).toEqual([...step1].sort());
    await kill();

    // Kill 3, with the retries in flight: the receivers hold them and have not taken them.
    hook.mode = 'ignore';
    mail.mode = 'ignore';
    const arrivedBefore = hook.arrived.length + mail.arrived.length;
    await start();
    expect(hook.arrived.length + mail.arrived.length).toBe(arrivedBefore);
    await advance(10_000);
    await until(
      'four sends in flight',
      () => hook.arrived.length + mail.arrived.length === arrivedBefore + 4,
    );
    await kill();

    // Kill 4, after the receivers took the four deliveries but before the hub read their answers
    // (a webhook's 200, the SMTP server's 250): the restarted hub must send them again.
    hook.mode = 'take-hold';
    mail.mode = 'take-hold';
    await start();
    await until('four deliveries taken', () => hook.taken.length + mail.taken.length === 4);
    await kill();
    hook.release();
    mail.release();

    // Restarted with receivers that answer: the four go again, with the same ids.
    hook.mode = 'ok';
    mail.mode = 'ok';
    await start();
    await until('the first step sent', async () => (await rows(alert)).every((d) => d.status === 'sent'));
    await advance(70_000);
    await ack(alert.h2); // after its first step, before its second

    // Kill 5, right after the grid worker's step fell due: whatever the sender had done by then.
    await advance(50_000);
    await kill();
    await start();
    const step2 = `${alert.h1}.2.1.webhook`;
    await until('the second step sent', async () =>
      (await rows(alert)).some((d) => d.id === step2 && d.status === 'sent'),
    );
    await advance(120_000);
    const step3 = `${alert.h1}.3.2.email`;
    await until('the third step sent', async () =>
      (await rows(alert)).some((d) => d.id === step3 && d.status === 'sent'),
    );
    // Long after every step: nothing more goes out.
    await advance(30 * 60_000);
    await sleep(300);
    expect(kills).toBe(5);

    const expected = [...step1, step2, step3].sort();
    const hookIds = [...step1, step2].filter((id) => id.endsWith('.webhook'));
    const mailIds = [...step1, step3].filter((id) => id.endsWith('.email'));
    const count = (list: Taken[], id: string) => list.filter((t) => t.id === id).length;

    // Every delivery arrived: deduplicated by webhook-id / Message-ID, exactly the expected set.
    expect(hook.badSignatures).toEqual([]);
    expect([...new Set(hook.taken.map((t) => t.id))].sort()).toEqual([...hookIds].sort());
    expect([...new Set(mail.taken.map((t) => t.id.replace(/@carehub\.invalid$/, '')))].sort()).toEqual(
      [...mailIds].sort(),
    );
    // Taken twice only where kill 4 landed between taking and recording; once otherwise.
    for (const id of step1) {
      const list = id.endsWith('.webhook') ? hook.taken : mail.taken;
      const key = id.endsWith('.webhook') ? id : `${id}@carehub.invalid`;
      expect(
        list.filter((t) => t.id === key).map((t) => t.mode),
        id,
      ).toEqual(['take-hold', 'ok']);
    }
    expect(count(mail.taken, `${step3}@carehub.invalid`)).toBe(1);
    // Kill 5 may have come before the send, or after it and before its record: once or twice, one id.
    expect(count(hook.taken, step2)).toBeGreaterThanOrEqual(1);
    expect(count(hook.taken, step2)).toBeLessThanOrEqual(2);

    // Nothing for h3 (acknowledged before its first step) nor for h2's later steps.
    const all = [...hook.arrived, ...mail.arrived];
    expect(all.filter((id) => id.startsWith(`${alert.h3}.`))).toEqual([]);
    expect(all.filter((id) => id.startsWith(`${alert.h2}.2.`) || id.startsWith(`${alert.h2}.3.`))).toEqual(
      [],
    );

    // The hub's own record: each delivery sent, with exactly one `sent` attempt.
    const state = await Promise.all(Object.values(alert).map(notifications));
    expect(state.flatMap((s) => s.deliveries.map((d) => [d.id, d.status])).sort()).toEqual(
      expected.map((id) => [id, 'sent']).sort(),
    );
    const sentAttempts = state.flatMap((s) =>
      s.attempts.filter((a) => a.result === 'sent').map((a) => a.delivery),
    );
    expect(sentAttempts.sort()).toEqual(expected);
    await kill();
  });
});
