import { type Logger, pino } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import { formatIso } from './time/iso.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogOptions {
  /** The site's zone: a terminal shows log times in it, as the console does (default: this machine's). */
  timezone?: string | undefined;
  /**
   * Lines for a person (one line each, site time, level in words) instead of JSON. Default: when
   * stdout is a terminal. Files, pipes and log collectors always get pino's JSON, unchanged.
   */
  pretty?: boolean | undefined;
}

/**
 * Root logger. Secrets never reach it: passwords, tokens and cookies are redacted by path as a
 * second line of defence; modules are written not to log them at all.
 */
export function createLogger(
  level: LogLevel,
  destination?: pino.DestinationStream,
  options: LogOptions = {},
): Logger {
  const loggerOptions: pino.LoggerOptions = {
    level,
    base: { svc: 'carehub' },
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'secret',
        '*.secret',
        'authorization',
        '*.authorization',
        'cookie',
        '*.cookie',
      ],
      censor: '[redacted]',
    },
  };
  const pretty = options.pretty ?? (destination === undefined && process.stdout.isTTY === true);
  if (pretty) return pino(loggerOptions, humanLines(options.timezone, destination));
  return destination ? pino(loggerOptions, destination) : pino(loggerOptions);
}

/**
 * pino-pretty as an in-process stream (no worker thread: lines stay in order with the demo's
 * narration on the same terminal): `2026-11-26 09:30:00.123 WARN device message rejected {…}`.
 */
export function humanLines(
  timezone: string | undefined,
  destination?: pino.DestinationStream,
): pino.DestinationStream {
  return prettyStream({
    destination: destination ?? 1,
    sync: true,
    colorize: destination === undefined && process.stdout.isTTY === true && !process.env.NO_COLOR,
    singleLine: true,
    translateTime: false,
    ignore: 'pid,hostname,svc',
    customPrettifiers: { time: (t) => siteTime(Number(t), timezone) },
  });
}

/** "2026-11-26 09:30:00.123" in the zone (the machine's when none is given). */
export function siteTime(ms: number, timezone: string | undefined): string {
  if (!Number.isFinite(ms)) return String(ms);
  const zone = timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  return formatIso(ms, zone).slice(0, 23).replace('T', ' ');
}
