import './fastify-types.js';
import { createServer, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Sessions } from '../auth/sessions.js';
import type { HubConfig } from '../config/schema.js';
import { readTlsFiles, TLS_DEFAULTS } from '../config/tls-files.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { listenOn } from '../net/listen.js';
import { errorBody, rawErrorResponse, statusOf, toHubError } from './error-reply.js';
import { withMethodNotAllowed } from './method-not-allowed.js';
import { RefusalLog } from './refusal-log.js';
import { installGuards, OriginPolicy } from './request-guards.js';
import { consoleFiles } from './static-files.js';
import { isUpgrade, type Routing, routeUpgrades } from './upgrade-bridge.js';

export interface HttpServerOptions {
  http: HubConfig['http'];
  sessions: Sessions;
  log: Logger;
  /** The built staff console (dashboards/console/dist). */
  consoleRoot: string;
  /** Registers the API's routes on the guarded scope (one function per area, hub/src/http/routes). */
  routes: (app: FastifyInstance) => void;
}

/** Paths that are never the console's: an unknown one is a JSON 404, not index.html. */
const isApiPath = (path: string) =>
  path === '/api' || path.startsWith('/api/') || path === '/healthz' || path === '/metrics';

/** How often node looks for requests past their header or request timeout: it cuts them no later than this after. */
const checkIntervalFor = (headersTimeoutMs: number) =>
  Math.max(100, Math.min(1000, Math.floor(headersTimeoutMs / 10)));

/**
 * The staff side over HTTP: fastify with its kept plugins (cookie, helmet, rate-limit, static), on a
 * plain listener and, with `http.tls`, an HTTPS one serving the same routes. Every failure answers
 * `{"error":{"code","message"}}` with a fitting status, including fastify's own (bad JSON, 413, 415,
 * a bad URL), requests node cannot parse (400/408/431) and refused upgrades.
 */
export class HttpServer {
  readonly #app: FastifyInstance;
  readonly #server: Server;
  #routing: Routing | undefined;
  #tlsServer: Server | undefined;
  readonly #sockets = new Set<Duplex>();
  readonly #refusals: RefusalLog;
  readonly #serverOptions: ServerOptions;
  #ready: Promise<unknown> | undefined;

  constructor(private readonly o: HttpServerOptions) {
    const { http, log } = o;
    this.#refusals = new RefusalLog(log);
    this.#serverOptions = {
      maxHeaderSize: 16_384,
      // Checked in onRequest instead, so the 400 carries the coded error like every other refusal.
      requireHostHeader: false,
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: checkIntervalFor(http.headersTimeoutMs),
    };
    let server: Server | undefined;
    this.#app = Fastify({
      loggerInstance: log as unknown as FastifyBaseLogger,
      // No line per request: refusals are summarised (RefusalLog), failures logged by #sendError.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: http.maxBodyBytes,
      trustProxy: http.trustedProxies.length > 0 ? [...http.trustedProxies] : false,
      return503OnClosing: true,
      serverFactory: (handler) => {
        this.#routing = handler;
        server = createServer(this.#serverOptions, handler);
        return server;
      },
      clientErrorHandler: (err, socket) => this.#clientError(err, socket),
      frameworkErrors: (err, _request, reply) => this.#sendError(reply, err),
    });
    this.#server = server as unknown as Server;
    this.#wire(this.#server);
    this.#build();
  }

  #build(): void {
    const app = this.#app;
    const { http, sessions } = this.o;
    app.removeAllContentTypeParsers();
    const json = app.getDefaultJsonParser('error', 'error');
    // JSON only (415 otherwise); an empty body counts as {}.
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '') done(null, {});
      else json(request, body as string, done);
    });
    app.setErrorHandler((err, _request, reply) => this.#sendError(reply, err));
    app.register(fastifyCookie);
    app.register(fastifyHelmet, {
      global: true,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          connectSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginEmbedderPolicy: false,
      // Sent only over HTTPS (below): a plain-HTTP hub on a LAN must stay reachable.
      strictTransportSecurity: false,
    });
    app.addHook('onRequest', async (request, reply) => {
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined)
        throw new HubError(ErrorCodes.BAD_REQUEST, 'an HTTP/1.1 request needs a Host header');
      if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
    });
    app.register(fastifyRateLimit, { global: false });
    app.register(async (scope) => {
      installGuards(scope, sessions, new OriginPolicy(http.allowedOrigins));
      scope.addHook('onSend', async (request, reply) => {
        if (isApiPath(pathOf(request.url))) reply.header('cache-control', 'no-store');
      });
      withMethodNotAllowed(scope, () => this.o.routes(scope));
      const index = consoleFiles(scope, this.o.consoleRoot);
      scope.setNotFoundHandler(async (request, reply) => {
        const path = pathOf(request.url);
        if (
          (request.method === 'GET' || request.method === 'HEAD') &&
          !isApiPath(path) &&
          !isUpgrade(request.raw)
        )
          return index(reply);
        throw new HubError(ErrorCodes.NOT_FOUND, `no such endpoint: ${path.slice(0, 200)}`);
      });
    });
  }

  /** Connection bookkeeping, upgrades and CONNECT: the same on the HTTP and the HTTPS listener. */
  #wire(server: Server): void {
    server.on('connection', (s: Duplex) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    routeUpgrades(server, (req, res) => this.#routing?.(req, res), this.o.log);
    server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      this.#refused('connect', req.socket.remoteAddress, 405);
      socket.end(rawErrorResponse(new HubError(ErrorCodes.METHOD_NOT_ALLOWED, 'CONNECT is not served')));
    });
  }

  /** A request node could not parse, or that ran out of time: 431, 408, else 400, coded; then the socket closes. */
  #clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const e =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new HubError(ErrorCodes.HEADERS_TOO_LARGE, 'request headers over 16 KiB')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new HubError(ErrorCodes.REQUEST_TIMEOUT, 'the request took too long to arrive')
          : new HubError(ErrorCodes.BAD_REQUEST, 'the request is not valid HTTP/1.1');
    this.#refused(
      err.code ?? 'client_error',
      (socket as { remoteAddress?: string }).remoteAddress,
      statusOf(e),
    );
    if (socket.writable) socket.end(rawErrorResponse(e));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  #refused(reason: string, remote: string | undefined, status: number): void {
    this.#refusals.info(reason, { remote, status }, 'bad HTTP request');
  }

  #sendError(reply: FastifyReply, err: unknown): FastifyReply {
    const e = toHubError(err, this.o.http.maxBodyBytes);
    const status = statusOf(e);
    if (status >= 500) this.o.log.error({ err: e.cause ?? e, code: e.code }, 'request failed');
    else this.o.log.debug({ code: e.code }, 'request refused');
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return reply;
    }
    const retry = (e.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if (status === 429 && retry) reply.header('retry-after', String(retry));
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(errorBody(e));
  }

  #whenReady(): Promise<unknown> {
    this.#ready ??= Promise.resolve(this.#app.ready());
    return this.#ready;
  }

  async listen(port: number, host: string): Promise<number> {
    await this.#whenReady();
    return listenOn(this.#server, port, host);
  }

  /** Serve HTTPS (and WSS) on a second listener from the configured PEM files; returns its port. */
  async listenTls(tls: { port: number; cert: string; key: string }, host: string): Promise<number> {
    await this.#whenReady();
    const server = createHttpsServer(
      { ...readTlsFiles(tls, 'http.tls'), ...TLS_DEFAULTS, ...this.#serverOptions },
      (req, res) => this.#routing?.(req, res),
    );
    this.#wire(server);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(err, socket));
    server.on('tlsClientError', (err: NodeJS.ErrnoException) =>
      this.#refusals.info('tls_handshake', { detail: err.code ?? err.message }, 'HTTPS handshake failed'),
    );
    this.#tlsServer = server;
    return listenOn(server, tls.port, host);
  }

  async close(): Promise<void> {
    const servers = [this.#server, ...(this.#tlsServer ? [this.#tlsServer] : [])];
    const closed = servers.map(
      (server) =>
        new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
    );
    for (const s of this.#sockets) s.destroy();
    for (const server of servers) server.closeAllConnections();
    await Promise.all(closed);
    await this.#app.close();
  }
}

/** The path of a request target, without its query; never throws. */
export const pathOf = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
};
