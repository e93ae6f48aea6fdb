import { z } from 'zod';
import type { Sessions } from '../../auth/sessions.js';
import { SESSION_COOKIE } from '../credentials.js';
import type { Router } from '../router.js';
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

export function authRoutes(router: Router, sessions: Sessions, secureCookie: boolean, site?: SiteInfo): void {
  router.add({
    method: 'POST',
    path: '/api/v1/login',
    auth: false,
    handler: async ({ body, req, res }) => {
      const { username, password } = parseInput(loginSchema, body);
      const { token, staff, expiresAt } = await sessions.login(
        username,
        password,
        req.socket.remoteAddress ?? 'unknown',
      );
      const maxAge = Math.floor((expiresAt - Date.now()) / 1000);
      res.setHeader(
        'set-cookie',
        `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secureCookie ? '; Secure' : ''}`,
      );
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
  });
  router.add({
    method: 'POST',
    path: '/api/v1/logout',
    auth: true,
    handler: ({ token, res }) => {
      if (token) sessions.logout(token);
      res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { ok: true };
    },
  });
  router.add({
    method: 'GET',
    path: '/api/v1/me',
    auth: true,
    handler: ({ staff }) => ({
      staff: staff && {
        id: staff.id,
        name: staff.name,
        role: staff.role,
        grids: staff.grids,
        locale: staff.locale ?? null,
      },
      site,
    }),
  });
}
