import type { Alert, DeviceChange, FeedMessage, HomeMode, HomeModeChange, HubErrorBody } from '../api/types';
import { AlertBook } from './alert-book';
import { type ConnectionState, FeedConnection, feedUrl } from './feed-connection';

function toMode(change: HomeModeChange): HomeMode {
  return typeof change.mode === 'string' ? { mode: change.mode, until: change.until ?? null } : change.mode;
}

export type AlertNews = 'raised' | 'repeated';

export interface LiveStateOptions {
  /** A new alert, or a repeat (more occurrences) of one we hold: notifications, sound re-arm. */
  onNews?: (alert: Alert, news: AlertNews) => void;
  checkSession?: () => void;
  url?: string;
}

/**
 * What the feed tells the console: unresolved alerts, device and home-mode changes, the
 * connection's state and the last error the hub answered on the feed. Views subscribe.
 */
export class LiveState {
  readonly book = new AlertBook();
  readonly devices = new Map<string, DeviceChange>();
  readonly modes = new Map<string, HomeMode>();
  feedError: HubErrorBody | null = null;
  /** Seen a snapshot since the page loaded (the queue is known, even if empty). */
  ready = false;
  readonly #feed: FeedConnection;
  readonly #listeners = new Set<() => void>();
  #connection: ConnectionState;
  /** Seq of the last snapshot: replayed entries at or below it are already in the picture. */
  #snapshotSeq = 0;

  constructor(private readonly options: LiveStateOptions = {}) {
    this.#feed = new FeedConnection({
      url: options.url ?? feedUrl(),
      onMessage: (m) => this.#onMessage(m),
      onState: (s) => {
        this.#connection = s;
        this.#emit();
      },
      ...(options.checkSession ? { checkSession: options.checkSession } : {}),
    });
    this.#connection = this.#feed.state;
  }

  get connection(): ConnectionState {
    return this.#connection;
  }

  get lastSeq(): number | undefined {
    return this.#feed.lastSeq;
  }

  start(): void {
    this.#feed.start();
  }

  stop(): void {
    this.#feed.stop();
    this.#listeners.clear();
  }

  reconnectNow(): void {
    this.#feed.reconnectNow();
  }

  /** Apply an alert the HTTP API answered with (it reaches us on the feed too; versions dedupe). */
  applyAlert(alert: Alert): void {
    if (this.book.apply(alert) !== 'stale') this.#emit();
  }

  clearFeedError(): void {
    this.feedError = null;
    this.#emit();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(): void {
    for (const l of this.#listeners) l();
  }

  #onMessage(msg: FeedMessage): void {
    switch (msg.type) {
      case 'snapshot': {
        const before = new Map(this.book.list().map((a) => [a.id, a]));
        const firstLoad = !this.ready;
        this.book.applySnapshot(msg.alerts);
        this.#snapshotSeq = msg.seq;
        this.ready = true;
        if (!firstLoad) {
          for (const a of msg.alerts) {
            const old = before.get(a.id);
            if (!old) this.options.onNews?.(a, 'raised');
            else if (a.occurrences > old.occurrences) this.options.onNews?.(a, 'repeated');
          }
        }
        break;
      }
      case 'alert': {
        const old = this.book.get(msg.alert.id);
        const result = this.book.apply(msg.alert);
        if (result === 'stale') return;
        if (msg.seq <= this.#snapshotSeq) break; // a replay: no news, the snapshot had it
        if (result === 'added' && msg.alert.status === 'open') this.options.onNews?.(msg.alert, 'raised');
        if (result === 'changed' && old && msg.alert.occurrences > old.occurrences) {
          this.options.onNews?.(msg.alert, 'repeated');
        }
        break;
      }
      case 'device':
        this.devices.set(msg.device.id, msg.device);
        break;
      case 'home':
        this.modes.set(msg.home.id, toMode(msg.home));
        break;
      case 'result':
        if (msg.ok || !msg.error) return;
        this.feedError = msg.error;
        break;
      default:
        return;
    }
    this.#emit();
  }
}
