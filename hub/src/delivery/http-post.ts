import type { SendResult } from './channel.js';

export interface PostAnswer {
  status: number;
  text: string;
  headers: Headers;
}

/** A POST with a deadline; never follows redirects (a hook that moved is a configuration to fix). */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): Promise<PostAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  // Answers are small; a huge one is cut (the first 4 KiB say what went wrong).
  const text = (await res.text()).slice(0, 4096);
  return { status: res.status, text, headers: res.headers };
}

/** A network failure (refused, reset, timed out) as a transient result. */
export function networkFailure(err: unknown): SendResult {
  const e = err as { name?: string; cause?: { code?: string }; code?: string };
  const code = e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.code ?? e.name ?? 'network error');
  return { outcome: 'transient', detail: String(code).slice(0, 60) };
}

/** Seconds of a Retry-After header (delta form only), as ms; undefined when absent or odd. */
export function retryAfter(headers: Headers): number | undefined {
  const v = headers.get('retry-after');
  if (!v || !/^\d{1,6}$/.test(v)) return undefined;
  return Number(v) * 1000;
}

/** The usual meaning of an HTTP status for a delivery. */
export function byStatus(status: number, headers: Headers): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'sent', detail: `HTTP ${status}` };
  if (status === 429)
    return { outcome: 'rate_limited', detail: 'HTTP 429', retryAfterMs: retryAfter(headers) };
  if (status === 408 || status === 425 || status >= 500)
    return { outcome: 'transient', detail: `HTTP ${status}` };
  return { outcome: 'permanent', detail: `HTTP ${status}` };
}
