import { ErrorCodes, HubError } from '../errors.js';

/** Statuses meaning "these points are refused as they are" (bad point, type conflict, beyond retention, too large). */
const POINT_REJECTIONS = new Set([400, 413, 422]);

export interface StoreErrorDetails {
  status: number | null;
}

/**
 * Classify an HTTP answer from InfluxDB. Only point-level refusals become HUB_ERR_STORE_REJECTED
 * (dead-lettered); everything else (5xx, 429, 401/403 credentials, 404 database/bucket missing, a
 * proxy answering 405) is HUB_ERR_STORE_UNAVAILABLE and retried, so a configuration mistake never
 * throws the backlog away.
 */
export function httpFailure(status: number, message: string, cause?: unknown): HubError {
  const code = POINT_REJECTIONS.has(status) ? ErrorCodes.STORE_REJECTED : ErrorCodes.STORE_UNAVAILABLE;
  const details: StoreErrorDetails = { status };
  return new HubError(code, `InfluxDB answered ${status}: ${message}`, { cause, details });
}

export function networkFailure(err: unknown): HubError {
  const e = err as { code?: unknown; message?: unknown };
  const what =
    typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : String(err);
  const details: StoreErrorDetails = { status: null };
  return new HubError(ErrorCodes.STORE_UNAVAILABLE, `InfluxDB unreachable: ${what}`, { cause: err, details });
}

export function isRejected(err: unknown): err is HubError {
  return err instanceof HubError && err.code === ErrorCodes.STORE_REJECTED;
}

export function statusOf(err: unknown): number | null {
  if (!(err instanceof HubError)) return null;
  const d = err.details as StoreErrorDetails | undefined;
  return typeof d?.status === 'number' ? d.status : null;
}

/** 1.x/2.x partial-write answers say how many points were dropped ("... dropped=3"). */
export function droppedCount(message: string): number | undefined {
  const m = /dropped=(\d+)/.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Remove credentials from a URL before it reaches a log line or /healthz. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid url)';
  }
}
