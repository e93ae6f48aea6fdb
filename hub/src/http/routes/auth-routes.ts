import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Sessions } from '../../auth/sessions.js';
import { ErrorCodes, HubError } from '../../errors.js';
import { credentials, SESSION_COOKIE } from '../credentials.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';

const loginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

export interface SiteInfo {
  name: string;
  locale: string;
  timezone: string;
}

/**
 * Login attempts per client address and minute, whatever the user names: bounds the password
 * hashing a single address can make the hub do. Guessing itself is slowed per (user, address) pair
 * by the sessions' LoginThrottle.
 */
export const LOGINS_PER_ADDRESS_PER_MINUTE = 30;

export function authRoutes(
  app: FastifyInstance,
  sessions: Sessions,
  secureCookie: boolean,
  site?: SiteInfo,
): void {
  const cookie = { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookie } as const;
  app.post(
    '/api/v1/login',
    {
      config: {
        rateLimit: {
          max: LOGINS_PER_ADDRESS_PER_MINUTE,
          timeWindow: 60_000,
          errorResponseBuilder: (_request, ctx) =>
            new HubError(ErrorCodes.TOO_MANY_ATTEMPTS, 'too many logins from this address; try again later', {
              details: { retryAfterSeconds: Math.max(1, Math.ceil(ctx.ttl / 1000)) },
            }),
        },
      },
    },
    async (request, reply) => {
      const { username, password } = parseInput(loginSchema, request.body ?? {});
      // request.ip: the socket's address, or the client's as a trusted proxy forwarded it (http.trustedProxies)
      const { token, staff, expiresAt } = await sessions.login(username, password, request.ip);
      reply.setCookie(SESSION_COOKIE, token, {
        ...cookie,
        maxAge: Math.floor((expiresAt - Date.now()) / 1000),
      });
      return {
        token,
        expiresAt: new Date(expiresAt).toISOString(),
        staff: {
          id: staff.id,
          name: staff.name,
          role: staff.role,
          grids: staff.grids,
          locale: staff.locale ?? null,
        },
        site,
      };
    },
  );
  app.post('/api/v1/logout', { config: { auth: true } }, async (request, reply) => {
    const { token } = credentials(request);
    if (token) await sessions.logout(token);
    reply.setCookie(SESSION_COOKIE, '', { ...cookie, secure: false, maxAge: 0 });
    return { ok: true };
  });
  app.get('/api/v1/me', { config: { auth: true } }, async (request) => {
    const staff = staffOf(request);
    return {
      staff: {
        id: staff.id,
        name: staff.name,
        role: staff.role,
        grids: staff.grids,
        locale: staff.locale ?? null,
      },
      site,
    };
  });
}
