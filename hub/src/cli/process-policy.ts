import type { Logger } from '../log.js';

/** The exit status of a hub that ended on a fatal error (EX_SOFTWARE): the supervisor restarts it. */
export const FATAL_EXIT_CODE = 70;
/** How long a dying hub may take to close its listeners and database before it exits anyway. */
const STOP_DEADLINE_MS = 3000;

export interface FatalTarget {
  log: Logger;
  /** Write why the process ends where the next start finds it (/healthz, /metrics). */
  recordCrash(reason: string): void;
  stop(): Promise<void>;
}

/**
 * The process policy of a life-safety service: an exception or rejection nobody handled means the
 * hub's memory can no longer be trusted, so it never runs on silently and never dies silently. It
 * logs the error at fatal level, records it for the next start, stops within STOP_DEADLINE_MS and
 * exits with FATAL_EXIT_CODE; the supervisor (systemd `Restart=always`, Docker `restart: always`;
 * docs/operations.md) starts it again within seconds. Everything PUBACKed is already on disk
 * (journal fsync before PUBACK), so a restart loses no accepted event.
 */
export function installProcessPolicy(hub: FatalTarget): () => void {
  let dying = false;
  const die = (kind: 'uncaughtException' | 'unhandledRejection', err: unknown) => {
    if (dying) return;
    dying = true;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    hub.log.fatal(
      { err, kind, code: 'HUB_ERR_FATAL' },
      `FATAL ${kind}: the hub exits (status ${FATAL_EXIT_CODE}) for its supervisor to restart it`,
    );
    try {
      hub.recordCrash(`${kind}: ${message}`);
    } catch {
      // The database may be what failed; the exit status and the log line still say it.
    }
    setTimeout(() => process.exit(FATAL_EXIT_CODE), STOP_DEADLINE_MS).unref();
    hub.stop().then(
      () => process.exit(FATAL_EXIT_CODE),
      () => process.exit(FATAL_EXIT_CODE),
    );
  };
  const onException = (err: unknown) => die('uncaughtException', err);
  const onRejection = (reason: unknown) => die('unhandledRejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
