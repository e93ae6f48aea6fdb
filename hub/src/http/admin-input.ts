import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { ErrorCodes, HubError, isHubError } from '../errors.js';
import type { Messages } from '../i18n/messages.js';
import { inputProblems } from '../site/directory-input.js';
import { type Problem, refusal } from '../site/problems.js';

/**
 * The admin API's input: validated field by field into problems (site/directory-input.ts), and
 * every refusal's messages rendered in the caller's language (hub/locales), so the console shows
 * the API's own words next to each field.
 */
export function parseAdmin<T extends z.ZodType>(schema: T, value: unknown, prefix = ''): z.output<T> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  throw refusal(inputProblems(r.error.issues, prefix), (key) => key, ErrorCodes.BAD_REQUEST);
}

/** zh-CN or en: the console sends its language as Accept-Language; else the staff member's, else English. */
export function languageOf(request: FastifyRequest, fallback?: string | null): string {
  const header = String(request.headers['accept-language'] ?? '')
    .trim()
    .toLowerCase();
  if (header.startsWith('zh')) return 'zh-CN';
  if (header.startsWith('en')) return 'en';
  return fallback?.startsWith('zh') ? 'zh-CN' : 'en';
}

/** A refusal that lists problems, with each message (and its own) in `locale`; anything else as it is. */
export function localized(err: unknown, messages: Messages, locale: string): unknown {
  if (!isHubError(err)) return err;
  const problems = (err.details as { problems?: Problem[] } | undefined)?.problems;
  if (!Array.isArray(problems) || problems.length === 0) return err;
  const again = refusal(problems, (key, params) => messages.t(locale, key, params), err.code);
  return new HubError(err.code, again.message, { details: again.details, cause: err.cause });
}
