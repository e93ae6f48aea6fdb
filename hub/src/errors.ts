/** Stable error codes: tests and API clients match on these, never on messages. */
export const ErrorCodes = {
  CONFIG_INVALID: 'HUB_ERR_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'HUB_ERR_CONFIG_UNREADABLE',
  STORE_UNAVAILABLE: 'HUB_ERR_STORE_UNAVAILABLE',
  STORE_REJECTED: 'HUB_ERR_STORE_REJECTED',
  PURGE_REFUSED: 'HUB_ERR_PURGE_REFUSED',
  BAD_REQUEST: 'HUB_ERR_BAD_REQUEST',
  UNAUTHENTICATED: 'HUB_ERR_UNAUTHENTICATED',
  FORBIDDEN: 'HUB_ERR_FORBIDDEN',
  NOT_FOUND: 'HUB_ERR_NOT_FOUND',
  ALERT_NOT_FOUND: 'HUB_ERR_ALERT_NOT_FOUND',
  ALERT_RESOLVED: 'HUB_ERR_ALERT_ALREADY_RESOLVED',
  ALERT_ACKNOWLEDGED: 'HUB_ERR_ALERT_ALREADY_ACKNOWLEDGED',
  LOGIN_FAILED: 'HUB_ERR_LOGIN_FAILED',
  TOO_MANY_ATTEMPTS: 'HUB_ERR_TOO_MANY_ATTEMPTS',
  VERSION_CONFLICT: 'HUB_ERR_VERSION_CONFLICT',
  PAYLOAD_TOO_LARGE: 'HUB_ERR_PAYLOAD_TOO_LARGE',
  METHOD_NOT_ALLOWED: 'HUB_ERR_METHOD_NOT_ALLOWED',
  INTERNAL: 'HUB_ERR_INTERNAL',
  LISTEN_FAILED: 'HUB_ERR_LISTEN_FAILED',
  START_FAILED: 'HUB_ERR_START_FAILED',
  CLOCK_NOT_MANUAL: 'HUB_ERR_CLOCK_NOT_MANUAL',
  UNSUPPORTED_MEDIA_TYPE: 'HUB_ERR_UNSUPPORTED_MEDIA_TYPE',
  CROSS_ORIGIN: 'HUB_ERR_CROSS_ORIGIN',
  TOO_MANY_CONNECTIONS: 'HUB_ERR_TOO_MANY_CONNECTIONS',
  REQUEST_TIMEOUT: 'HUB_ERR_REQUEST_TIMEOUT',
  HEADERS_TOO_LARGE: 'HUB_ERR_HEADERS_TOO_LARGE',
  UPGRADE_REQUIRED: 'HUB_ERR_UPGRADE_REQUIRED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class HubError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HubError';
    this.code = code;
    this.details = options.details;
  }
}

export function isHubError(err: unknown): err is HubError {
  return err instanceof HubError;
}
