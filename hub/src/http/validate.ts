import type { z } from 'zod';
import { ErrorCodes, HubError } from '../errors.js';

/** Validate request input with zod; the first problem is reported by path as HUB_ERR_BAD_REQUEST. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new HubError(ErrorCodes.BAD_REQUEST, `invalid request: ${issues.join('; ')}`);
}
