import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Session, Sessions } from '../auth/sessions.js';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import { credentials } from './credentials.js';
import { isUpgrade } from './upgrade-bridge.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `scheme://host[:port]` in lower case without the scheme's default port; undefined when it is not one. */
function normalOrigin(scheme: string, host: string): string | undefined {
  const h = host.toLowerCase();
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(:\d{1,5})?$/.test(h)) return undefined;
  const s = scheme.toLowerCase();
  if (s !== 'http' && s !== 'https') return undefined;
  const bare = (s === 'http' && h.endsWith(':80')) || (s === 'https' && h.endsWith(':443'));
  return `${s}://${bare ? h.slice(0, h.lastIndexOf(':')) : h}`;
}

function originOfHeader(origin: string): string | undefined {
  const m = /^([a-zA-Z]+):\/\/([^/?#]+)$/.exec(origin);
  return m ? normalOrigin(m[1] as string, m[2] as string) : undefined;
}

/**
 * Cross-site request policy (docs/security.md#cross-site-requests). A browser attaches the session
 * cookie to requests other sites make it send, and always sends `Origin` with them when they change
 * state (POST, WebSocket handshakes). So:
 * - a state-changing request that carries `Origin` must come from the hub's own origin (the scheme
 *   and Host it was asked at, or what a trusted proxy forwarded) or a configured allowed origin;
 * - one authenticated by the cookie must carry `Origin` (scripts use `Authorization: Bearer`,
 *   which no other site can make a browser send);
 * - a cookie-authenticated read that the browser marks as made by another site
 *   (`Sec-Fetch-Site: cross-site` or `same-site`) is refused too: reads of resident files are audited,
 *   and another site must not write that trail in a staff member's name.
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.#allowed = new Set(allowedOrigins.map((o) => originOfHeader(o) ?? o));
  }

  check(request: FastifyRequest, viaCookie: boolean, changesState: boolean): void {
    const header = request.headers.origin;
    if (header !== undefined) {
      if (this.#allowedOrigin(request, header)) return;
      if (changesState || viaCookie)
        throw new HubError(ErrorCodes.CROSS_ORIGIN, 'requests from another site are refused (Origin)');
      return;
    }
    if (!viaCookie) return;
    if (changesState)
      throw new HubError(
        ErrorCodes.CROSS_ORIGIN,
        'a change made with the session cookie must carry the Origin header (scripts: Authorization: Bearer)',
      );
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site')
      throw new HubError(ErrorCodes.CROSS_ORIGIN, 'requests from another site are refused (Sec-Fetch-Site)');
  }

  #allowedOrigin(request: FastifyRequest, header: string): boolean {
    const origin = originOfHeader(header);
    if (origin === undefined) return false;
    return (
      this.#allowed.has(origin) || origin === normalOrigin(request.protocol ?? 'http', request.host ?? '')
    );
  }
}

/**
 * Every request of the scope, before its body is read: upgrades only where a route takes them, 405
 * stubs, the Origin policy, and the session of routes that need one (401 without).
 */
export function installGuards(app: FastifyInstance, sessions: Sessions, origins: OriginPolicy): void {
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.methodNotAllowed)
      throw new HubError(ErrorCodes.METHOD_NOT_ALLOWED, `${request.method} is not allowed here`);
    const upgrade = isUpgrade(request.raw);
    if (upgrade && !config.upgrade) throw new HubError(ErrorCodes.NOT_FOUND, 'no WebSocket endpoint here');
    const creds = credentials(request);
    // Only routes that act as a staff member care how the session arrived; the console's pages do not.
    const cookieAuth = config.auth === true && creds.viaCookie;
    if (!config.anyOrigin) origins.check(request, cookieAuth, upgrade || !SAFE_METHODS.has(request.method));
    if (!config.auth) return;
    const session = sessions.session(creds.token);
    if (!session)
      throw new HubError(
        ErrorCodes.UNAUTHENTICATED,
        'log in first: Authorization: Bearer <token> or the session cookie',
      );
    request.session = session;
    if (config.admin && session.staff.role !== 'admin')
      throw new HubError(ErrorCodes.FORBIDDEN, 'only admins change the site directory');
  });
}

export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new HubError(ErrorCodes.UNAUTHENTICATED, 'log in first');
  return request.session;
}

export const staffOf = (request: FastifyRequest): StaffConfig => sessionOf(request).staff;
