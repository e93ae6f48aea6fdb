import type { Session } from '../auth/sessions.js';

/** What the hub's routes declare in `config`, and what its hooks put on a request. */
declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs a logged-in session (401 without one); the hook puts it on `request.session`. */
    auth?: boolean;
    /** Site administration: admins only (403 for other roles), checked before the body is read. */
    admin?: boolean;
    /** The route takes a WebSocket upgrade; every other route refuses one (404). */
    upgrade?: boolean;
    /** Skip the Origin check: callers never hold the session cookie (MQTT over WebSocket: devices). */
    anyOrigin?: boolean;
    /** A stub that answers 405 for a method the path does not have. */
    methodNotAllowed?: boolean;
  }
  interface FastifyRequest {
    /** The session of a route with `config.auth`; null elsewhere. */
    session: Session | null;
  }
}
