import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'carehub_session';

export interface Credentials {
  /** The session token from `Authorization: Bearer …`, else from the console's session cookie. */
  token: string | undefined;
  /** The token came from the cookie: the browser sends it by itself, so the request may be cross-site. */
  viaCookie: boolean;
}

/** The header wins when both are sent. Cookies are parsed by @fastify/cookie (bad encodings stay as sent). */
export function credentials(request: FastifyRequest): Credentials {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer '))
    return { token: auth.slice('Bearer '.length).trim() || undefined, viaCookie: false };
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, viaCookie: true } : { token: undefined, viaCookie: false };
}
