import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Sessions } from '../auth/sessions.js';
import { readTlsFiles, TLS_DEFAULTS } from '../config/tls-files.js';
import { type ErrorCode, ErrorCodes, HubError, isHubError } from '../errors.js';
import type { Logger } from '../log.js';
import { listenOn } from '../net/listen.js';
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

const SERVER_LIMITS = { maxHeaderSize: 16_384, requestTimeout: 30_000, headersTimeout: 10_000 } as const;

/** The status for a request node:http could not parse: 431 for oversize headers, 408 for a timeout, else 400. */
function clientErrorStatus(err: NodeJS.ErrnoException): string {
  if (err.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** JSON over node:http. Every failure answers `{"error":{"code","message"}}` with a fitting status. */
export class HttpServer {
  readonly #server: Server;
  /** The HTTPS listener, when `http.tls` is set. */
  #tlsServer: Server | undefined;
  readonly #upgrades = new Map<string, UpgradeHandler>();
  readonly #sockets = new Set<Duplex>();

  constructor(
    private readonly router: Router,
    private readonly sessions: Sessions,
    private readonly maxBodyBytes: number,
    private readonly log: Logger,
    private readonly fallback?: (req: IncomingMessage, res: ServerResponse) => boolean,
  ) {
    this.#server = createServer(SERVER_LIMITS, (req, res) => {
      void this.#onRequest(req, res);
    });
    this.#wire(this.#server);
  }

  /** Connection bookkeeping, unparseable requests and upgrades: the same on the HTTP and the HTTPS listener. */
  #wire(server: Server): void {
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status = clientErrorStatus(err);
      this.log.info(
        { reason: err.code ?? err.message, status: Number.parseInt(status, 10) },
        'bad HTTP request',
      );
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
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

  listen(port: number, host: string): Promise<number> {
    return listenOn(this.#server, port, host);
  }

  /** Serve HTTPS (and WSS) on a second listener from the configured PEM files; returns its port. */
  async listenTls(tls: { port: number; cert: string; key: string }, host: string): Promise<number> {
    const server = createHttpsServer(
      { ...readTlsFiles(tls, 'http.tls'), ...TLS_DEFAULTS, ...SERVER_LIMITS },
      (req, res) => {
        void this.#onRequest(req, res);
      },
    );
    this.#wire(server);
    server.on('tlsClientError', (err: NodeJS.ErrnoException) =>
      this.log.info({ reason: err.code ?? err.message }, 'HTTPS handshake failed'),
    );
    this.#tlsServer = server;
    return listenOn(server, tls.port, host);
  }

  async close(): Promise<void> {
    const servers = [this.#server, ...(this.#tlsServer ? [this.#tlsServer] : [])];
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const s of this.#sockets) s.destroy();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(closed);
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
      if (route.auth && !staff)
        throw new HubError(
          ErrorCodes.UNAUTHENTICATED,
          'log in first: Authorization: Bearer <token> or the session cookie',
        );
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
      if (size > this.maxBodyBytes)
        throw new HubError(ErrorCodes.PAYLOAD_TOO_LARGE, `request body over ${this.maxBodyBytes} bytes`);
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

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}
