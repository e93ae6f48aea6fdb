import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ErrorCodes, HubError } from '../../errors.js';

/** A time query parameter: ISO 8601 or epoch milliseconds → epoch ms. */
export const timeParam = z
  .string()
  .transform((s, ctx) => {
    const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/** An id in the path (`:id`): 1–64 characters of A-Z a-z 0-9 . _ -; anything else is a 404. */
export function pathId(request: FastifyRequest, name = 'id'): string {
  const value = (request.params as Record<string, string | undefined>)[name] ?? '';
  if (!ID.test(value)) throw new HubError(ErrorCodes.NOT_FOUND, 'no such endpoint');
  return value;
}
