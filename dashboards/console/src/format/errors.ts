import { ApiError, BAD_ANSWER, NETWORK_ERROR } from '../api/http';
import type { HubErrorBody } from '../api/types';
import type { Translate } from '../i18n/i18n';

/**
 * A hub error in plain words: the locale's sentence for the stable code when there is one,
 * else a general sentence carrying the hub's own message.
 */
export function describeError(err: unknown, t: Translate): string {
  if (err instanceof ApiError) return describeCode(err.code, err.message, t, err.status);
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as HubErrorBody;
    return describeCode(e.code, e.message, t);
  }
  return t('error.unexpected', { message: err instanceof Error ? err.message : String(err) });
}

function describeCode(code: string, message: string, t: Translate, status?: number): string {
  if (code === NETWORK_ERROR) return t('error.network');
  if (code === BAD_ANSWER) return t('error.badAnswer', { status: status ?? 0 });
  const key = `error.${code}`;
  const text = t(key, { message });
  if (text !== key) return text;
  return t('error.generic', { message, code });
}
