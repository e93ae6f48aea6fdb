import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Sessions } from '../auth/sessions.js';
import { type ErrorCode, ErrorCodes, HubError, isHubError } from '../errors.js';
import type { Logger } from '../log.js';
import { bearerToken } from './credentials.js';
import type { RequestContext, Router } from './router.js';

const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.LOGIN_FAILED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.ALERT_NOT_FOUND]: 404,
  [ErrorCodes.CLOCK_NOT_MANUAL]: 404,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.VERSION_CONFLICT]: 409,
  [ErrorCodes.ALERT_RESOLVED]: 409,
  [ErrorCodes.ALERT_ACKNOWLEDGED]: 409,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.TOO_MANY_ATTEMPTS]: 429,
  [ErrorCodes.STORE_UNAVAILABLE]: 503,
};

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** JSON over node:http. Every failure answers `{"error":{"code","message"}}` with a fitting status. */
export class HttpServer {
  readonly #server: Server;
  readonly #upgrades = new Map<string, UpgradeHandler>();
  readonly #sockets = new Set<Duplex>();

  constructor(
    private readonly router: Router,
    private readonly sessions: Sessions,
    private readonly maxBodyBytes: number,
    private readonly log: Logger,
    private readonly fallback?: (req: IncomingMessage, res: ServerResponse) => boolean,
  ) {
    this.#server = createServer({ maxHeaderSize: 16_384, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      void this.#onRequest(req, res);
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    this.#server.on('clientError', (err, socket) => {
      this.log.info({ reason: (err as Error).message }, 'bad HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = this.#upgrades.get(path);
      if (!handler) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      handler(req, socket, head);
    });
  }

  onUpgrade(path: string, handler: UpgradeHandler): void {
    this.#upgrades.set(path, handler);
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const addr = this.#server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#server.closeAllConnections();
    await closed;
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (!url.pathname.startsWith('/api/') && url.pathname !== '/healthz' && url.pathname !== '/metrics') {
        if (this.fallback?.(req, res)) return;
      }
      const { route, params } = this.router.match(req.method ?? 'GET', url.pathname);
      const token = bearerToken(req);
      const staff = route.auth ? this.sessions.authenticate(token) : undefined;
      if (route.auth && !staff) throw new HubError(ErrorCodes.UNAUTHENTICATED, 'log in first: Authorization: Bearer <token> or the session cookie');
      const body = req.method === 'POST' ? await this.#readJson(req) : undefined;
      const ctx: RequestContext = { req, res, url, params, body, staff, token };
      const result = await route.handler(ctx);
      if (res.headersSent || res.writableEnded) return;
      if (typeof result === 'string') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(result);
        return;
      }
      sendJson(res, 200, result ?? { ok: true });
    } catch (err) {
      this.#sendError(res, err);
    }
  }

  #sendError(res: ServerResponse, err: unknown): void {
    const e = isHubError(err) ? err : new HubError(ErrorCodes.INTERNAL, 'internal error', { cause: err });
    const status = STATUS[e.code] ?? 500;
    if (status >= 500) this.log.error({ err: e.cause ?? e, code: e.code }, 'request failed');
    else this.log.debug({ code: e.code }, 'request refused');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    const retry = (e.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if (status === 429 && retry) headers['retry-after'] = String(retry);
    sendJson(res, status, { error: { code: e.code, message: e.message } }, headers);
  }

  async #readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.maxBodyBytes) throw new HubError(ErrorCodes.PAYLOAD_TOO_LARGE, `request body over ${this.maxBodyBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
    if (size === 0) return {};
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HubError(ErrorCodes.BAD_REQUEST, 'request body is not JSON');
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}
