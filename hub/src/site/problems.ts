import { type ErrorCode, ErrorCodes, HubError } from '../errors.js';

/**
 * One thing wrong with a directory change: which field (and, for an import, which CSV row), a coded
 * error, and a message key with its parameters. The API renders the message in the caller's
 * language from hub/locales (the console shows it as is), so a form and the API say the same.
 */
export interface Problem {
  code: ErrorCode;
  /** The field, as a path into the request (`residents.0.id`, `zigbee.gateway`) or a CSV column. */
  field: string;
  key: string;
  params: Record<string, string>;
  /** The CSV row (1 = the header line), for an import. */
  row?: number;
  /** Which op of the change it is about (an import maps it back to its row). */
  op?: number;
  message?: string;
}

/** Renders a message key; the hub's Messages catalog (i18n) in practice. */
export type Translate = (key: string, params: Record<string, string>) => string;

/** With `message` filled in by `t`. */
export function rendered(problems: readonly Problem[], t: Translate): Problem[] {
  return problems.map((p) => ({ ...p, message: t(p.key, p.params) }));
}

/**
 * A change refused for its problems: the first one's code when all share it (a duplicate id is a
 * 409 HUB_ERR_DUPLICATE_ID), HUB_ERR_DIRECTORY_INVALID otherwise; every problem in `details`.
 */
export function refusal(problems: readonly Problem[], t: Translate, code?: ErrorCode): HubError {
  const list = rendered(problems, t);
  const first = list[0];
  const same = first !== undefined && list.every((p) => p.code === first.code);
  const chosen = code ?? (same ? first.code : ErrorCodes.DIRECTORY_INVALID);
  const head = first ? `${first.field ? `${first.field}: ` : ''}${first.message}` : 'invalid change';
  const more = list.length > 1 ? ` (and ${list.length - 1} more problem(s))` : '';
  return new HubError(chosen, `${head}${more}`, { details: { problems: list } });
}

export function problem(
  code: ErrorCode,
  field: string,
  key: string,
  params: Record<string, string> = {},
): Problem {
  return { code, field, key, params };
}
