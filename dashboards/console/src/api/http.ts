import type { HubErrorBody } from './types';

/** A failed call to the hub, with the hub's stable code (or a console-side one for network trouble). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const NETWORK_ERROR = 'CONSOLE_ERR_NETWORK';
export const BAD_ANSWER = 'CONSOLE_ERR_BAD_ANSWER';

let onUnauthenticated: (() => void) | undefined;

/** Called when any call answers 401 after login: the session has ended. */
export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

/** JSON over fetch, same origin, with the session cookie. Throws ApiError with the hub's code. */
export async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ApiError(NETWORK_ERROR, err instanceof Error ? err.message : String(err), 0);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(BAD_ANSWER, `HTTP ${res.status}`, res.status);
  }
  if (!res.ok) {
    const error = (json as { error?: HubErrorBody } | null)?.error;
    if (res.status === 401 && error?.code === 'HUB_ERR_UNAUTHENTICATED') onUnauthenticated?.();
    throw new ApiError(
      error?.code ?? `HTTP_${res.status}`,
      error?.message ?? `HTTP ${res.status}`,
      res.status,
    );
  }
  return json as T;
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
