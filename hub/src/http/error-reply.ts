import { STATUS_CODES } from 'node:http';
import { type ErrorCode, ErrorCodes, HubError, isHubError } from '../errors.js';

/** The HTTP status of each error code that can reach an HTTP client; anything else is a 500. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.BAD_REQUEST]: 400,
  [ErrorCodes.UNAUTHENTICATED]: 401,
  [ErrorCodes.LOGIN_FAILED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.CROSS_ORIGIN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.ALERT_NOT_FOUND]: 404,
  [ErrorCodes.CLOCK_NOT_MANUAL]: 404,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.REQUEST_TIMEOUT]: 408,
  [ErrorCodes.VERSION_CONFLICT]: 409,
  [ErrorCodes.ALERT_RESOLVED]: 409,
  [ErrorCodes.ALERT_ACKNOWLEDGED]: 409,
  [ErrorCodes.PAYLOAD_TOO_LARGE]: 413,
  [ErrorCodes.IMPORT_TOO_LARGE]: 413,
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCodes.UPGRADE_REQUIRED]: 426,
  [ErrorCodes.TOO_MANY_ATTEMPTS]: 429,
  [ErrorCodes.TOO_MANY_CONNECTIONS]: 429,
  [ErrorCodes.HEADERS_TOO_LARGE]: 431,
  [ErrorCodes.STORE_UNAVAILABLE]: 503,
  [ErrorCodes.DUPLICATE_ID]: 409,
  [ErrorCodes.IN_USE]: 409,
  [ErrorCodes.PURGE_REFUSED]: 409,
  [ErrorCodes.UNKNOWN_GRID]: 400,
  [ErrorCodes.GATEWAY_MISMATCH]: 400,
  [ErrorCodes.DIRECTORY_INVALID]: 400,
  [ErrorCodes.IMPORT_INVALID]: 400,
  [ErrorCodes.CLUSTER_UNAVAILABLE]: 503,
};

export const statusOf = (e: HubError): number => HTTP_STATUS[e.code] ?? 500;

/** A refused change that lists its problems (by field, and by row for an import) carries them along. */
export const errorBody = (e: HubError) => {
  const problems = (e.details as { problems?: unknown } | undefined)?.problems;
  return {
    error: { code: e.code, message: e.message, ...(Array.isArray(problems) ? { problems } : {}) },
  };
};

/** Fastify's own errors (and the plugins') by their code, as the hub's coded errors. */
const FRAMEWORK: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
    'request bodies must be JSON: send Content-Type: application/json',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [ErrorCodes.BAD_REQUEST, 'Content-Length does not match the body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [ErrorCodes.BAD_REQUEST, 'request body is not JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [ErrorCodes.BAD_REQUEST, 'request body is not JSON'],
  FST_ERR_BAD_URL: [ErrorCodes.BAD_REQUEST, 'the request target is not a valid URL'],
  FST_ERR_MAX_PARAM_LENGTH: [ErrorCodes.NOT_FOUND, 'no such endpoint'],
  FST_ERR_ASYNC_CONSTRAINT: [ErrorCodes.BAD_REQUEST, 'bad request'],
};

/** Other 4xx statuses from fastify or a plugin, as the closest code. */
const BY_STATUS: Record<number, ErrorCode> = {
  403: ErrorCodes.FORBIDDEN,
  404: ErrorCodes.NOT_FOUND,
  405: ErrorCodes.METHOD_NOT_ALLOWED,
  408: ErrorCodes.REQUEST_TIMEOUT,
  413: ErrorCodes.PAYLOAD_TOO_LARGE,
  415: ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorCodes.TOO_MANY_ATTEMPTS,
  431: ErrorCodes.HEADERS_TOO_LARGE,
};

/**
 * Any error thrown while serving a request, as a HubError: the hub's own pass through; fastify's
 * (bad JSON, 413, 415, bad URL …) get the matching code and a message of ours; anything else is an
 * internal error (500, logged by the caller), with the original as `cause`.
 */
export function toHubError(err: unknown, maxBodyBytes: number): HubError {
  if (isHubError(err)) return err;
  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new HubError(ErrorCodes.PAYLOAD_TOO_LARGE, `request body over ${maxBodyBytes} bytes`);
  const known = typeof e.code === 'string' ? FRAMEWORK[e.code] : undefined;
  if (known) return new HubError(known[0], known[1]);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500)
    return new HubError(BY_STATUS[status] ?? ErrorCodes.BAD_REQUEST, STATUS_CODES[status] ?? 'bad request');
  return new HubError(ErrorCodes.INTERNAL, 'internal error', { cause: err });
}

/** A whole HTTP/1.1 answer carrying a coded error, for places with only a socket (parse errors, refused upgrades). */
export function rawErrorResponse(e: HubError): string {
  const status = statusOf(e);
  const body = JSON.stringify(errorBody(e));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
