import type { z } from 'zod';
import { ErrorCodes, HubError } from '../errors.js';

/** Validate request input with zod; the first problem is reported by path as HUB_ERR_BAD_REQUEST. */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' = 'body',
): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 5).map((i) => {
    const keys = i.code === 'unrecognized_keys' ? ` ${i.keys.join(', ')}` : '';
    return `${i.path.join('.') || `(${where})`}: ${i.message}${keys}`;
  });
  throw new HubError(ErrorCodes.BAD_REQUEST, `invalid request: ${issues.join('; ')}`);
}
