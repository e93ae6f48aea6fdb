import type { FeedMessage } from '../api/types';

export type ConnectionStatus = 'connecting' | 'open' | 'lost';

export interface ConnectionState {
  status: ConnectionStatus;
  /** When the connection was last lost (epoch ms), for "lost for 2 min". */
  lostAt: number | null;
  /** When the next attempt starts (epoch ms), while lost. */
  retryAt: number | null;
  /** Failed attempts in a row. */
  attempts: number;
  /** Has it ever been open? (the first connect is not a "loss") */
  everOpen: boolean;
}

/** The hub closes a feed with this code when its login session ends (logout elsewhere, expiry). */
export const SESSION_ENDED_CLOSE = 4401;

export interface FeedOptions {
  url: string;
  onMessage: (msg: FeedMessage) => void;
  onState: (state: ConnectionState) => void;
  /** Called after failed attempts, to find out whether the session has ended. */
  checkSession?: () => void;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * The staff feed WebSocket (PROTOCOL.md §2). Authenticated by the session cookie; reconnects by
 * itself with capped exponential backoff and jitter, and after a reconnect asks the hub to
 * replay what it missed with `{"type":"resume","afterSeq":<last seq seen>}`.
 */
export class FeedConnection {
  readonly #o: Required<Omit<FeedOptions, 'checkSession'>> & Pick<FeedOptions, 'checkSession'>;
  #ws: WebSocket | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;
  #lastSeq: number | undefined;
  #state: ConnectionState = {
    status: 'connecting',
    lostAt: null,
    retryAt: null,
    attempts: 0,
    everOpen: false,
  };

  constructor(options: FeedOptions) {
    this.#o = { minDelayMs: 500, maxDelayMs: 5000, ...options };
  }

  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    addEventListener('online', this.#onOnline);
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    removeEventListener('online', this.#onOnline);
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close(1000, 'logout');
  }

  /** Skip the wait: try again now (the "Reconnect now" button, the browser coming back online). */
  reconnectNow(): void {
    if (this.#stopped || this.#state.status === 'open') return;
    clearTimeout(this.#timer);
    if (this.#ws && this.#ws.readyState === WebSocket.CONNECTING) return;
    this.#connect();
  }

  /** Send a client message; false when the feed is not open. */
  send(msg: object): boolean {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  readonly #onOnline = (): void => this.reconnectNow();

  #setState(patch: Partial<ConnectionState>): void {
    this.#state = { ...this.#state, ...patch };
    this.#o.onState(this.#state);
  }

  #connect(): void {
    if (this.#status() === 'lost') this.#setState({ retryAt: null });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#o.url);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      opened = true;
      if (this.#lastSeq !== undefined) ws.send(JSON.stringify({ type: 'resume', afterSeq: this.#lastSeq }));
      this.#setState({ status: 'open', lostAt: null, retryAt: null, attempts: 0, everOpen: true });
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.#ws || typeof ev.data !== 'string') return;
      let msg: FeedMessage;
      try {
        msg = JSON.parse(ev.data) as FeedMessage;
      } catch {
        return;
      }
      if ('seq' in msg && typeof msg.seq === 'number') this.#lastSeq = Math.max(this.#lastSeq ?? 0, msg.seq);
      this.#o.onMessage(msg);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.#ws) return;
      this.#ws = undefined;
      if (this.#stopped) return;
      // The session is over: find out at once (the app then shows the login), do not wait for retries to fail.
      if (ev.code === SESSION_ENDED_CLOSE || (!opened && this.#state.attempts >= 1)) this.#o.checkSession?.();
      this.#scheduleRetry();
    };
  }

  #status(): ConnectionStatus {
    return this.#state.status;
  }

  #scheduleRetry(): void {
    const attempts = this.#state.attempts + 1;
    const base = Math.min(this.#o.maxDelayMs, this.#o.minDelayMs * 2 ** (attempts - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.25));
    const now = Date.now();
    this.#setState({
      status: this.#state.everOpen || attempts > 1 ? 'lost' : 'connecting',
      lostAt: this.#state.lostAt ?? now,
      retryAt: now + delay,
      attempts,
    });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}

export function feedUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/api/v1/feed`;
}
