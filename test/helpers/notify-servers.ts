import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

/** A mail as the SMTP server received it: envelope, raw headers and body. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  header(name: string): string | undefined;
}

/**
 * A real SMTP server (the `smtp-server` package) on loopback, started by the test: it accepts any
 * sender, keeps every message, and can be stopped and started again on the same port (an outage).
 */
export class TestSmtp {
  readonly mails: ReceivedMail[] = [];
  #server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
          const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            header: (name) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? undefined,
          });
          callback();
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.listen(this.port, '127.0.0.1', () => resolve());
      server.server.once('error', reject);
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Close the listener and every connection (the server is down until start() again). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** What this request was answered with. */
  status: number;
}

type Answer = { status: number; body: string } | 'hold';

/**
 * A local HTTP receiver standing in for a webhook endpoint, a WeCom or DingTalk robot or an SMS
 * gateway (the real services cannot be reached from here). It records every request and answers
 * from a script (then with the default answer); 'hold' never answers (a send under way).
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly #script: Answer[] = [];
  #server: Server | undefined;
  port = 0;

  constructor(
    private readonly defaultAnswer: { status: number; body: string } = { status: 200, body: '{}' },
  ) {}

  /** The next answers, in order. */
  answer(...answers: Answer[]): this {
    this.#script.push(...answers);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const a = this.#script.shift() ?? this.defaultAnswer;
        const rec: ReceivedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status: a === 'hold' ? 0 : a.status,
        };
        this.requests.push(rec);
        if (a === 'hold') return;
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(a.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Verify a request with the standardwebhooks package's verifier; returns the parsed body (throws when it does not verify). */
export function verifyWebhook(secret: string, r: ReceivedRequest): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const k of ['webhook-id', 'webhook-timestamp', 'webhook-signature'])
    headers[k] = String(r.headers[k] ?? '');
  return new Webhook(secret).verify(r.body, headers) as Record<string, unknown>;
}

export const WEBHOOK_SECRET = `whsec_${Buffer.from('carehub-test-webhook-secret-32b!').toString('base64')}`;
export const DINGTALK_SECRET = 'SECtest-dingtalk-secret-0123456789';

/**
 * The demo configuration with notifications on: home h1's daughter (email, webhook), grid worker
 * (webhook, WeCom, DingTalk, SMS) and a neighbour (email); ladder 60 s family, 180 s grid worker,
 * 300 s neighbour. Channels point at the given local servers.
 */
export function notifyRaw(
  base: Record<string, unknown>,
  s: { smtpPort: number; webhook: string; wecom?: string; dingtalk?: string; sms?: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const raw = structuredClone(base) as { homes: Array<Record<string, unknown>> } & Record<string, unknown>;
  const h1 = raw.homes.find((h) => h.id === 'h1') as Record<string, unknown>;
  h1.contacts = [
    {
      name: 'Li Min (daughter)',
      relation: 'family',
      phone: '+86 138 0000 0001',
      email: 'li.min@example.test',
      language: 'zh-CN',
      notify: ['email', 'webhook'],
    },
    {
      name: 'Zhao Qiang (grid worker)',
      relation: 'grid_worker',
      phone: '+86 139 0000 0002',
      email: 'zhao@example.test',
      language: 'en',
      notify: [
        'webhook',
        ...(s.wecom ? ['wecom'] : []),
        ...(s.dingtalk ? ['dingtalk'] : []),
        ...(s.sms ? ['sms'] : []),
      ],
    },
    {
      name: 'Wu Fang (neighbour, has a key)',
      relation: 'neighbour',
      email: 'wu@example.test',
      notify: ['email'],
    },
  ];
  raw.notifications = {
    publicUrl: 'https://carehub.example.test/',
    linkSecret: 'test-link-secret-0123456789abcdefghijklmnop',
    webhook: { url: s.webhook, secret: WEBHOOK_SECRET },
    smtp: { host: '127.0.0.1', port: s.smtpPort, secure: false, from: 'CareHub <carehub@example.test>' },
    ladder: [
      { after: '60s', relations: ['family'] },
      { after: '180s', relations: ['grid_worker'] },
      { after: '300s', relations: ['neighbour'] },
    ],
    ...(s.wecom ? { wecom: { url: `${s.wecom}/cgi-bin/webhook/send?key=test-key` } } : {}),
    ...(s.dingtalk
      ? { dingtalk: { url: `${s.dingtalk}/robot/send?access_token=test-token`, secret: DINGTALK_SECRET } }
      : {}),
    ...(s.sms
      ? {
          sms: {
            endpoint: `${s.sms}/`,
            accessKeyId: 'test-key-id',
            accessKeySecret: 'test-key-secret',
            signName: 'CareHub',
            templates: { 'zh-CN': 'SMS_100001', en: 'SMS_100002' },
          },
        }
      : {}),
    ...extra,
  };
  return raw;
}
