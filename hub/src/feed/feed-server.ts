import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Session, Sessions, SessionsEnded } from '../auth/sessions.js';
import type { Clock } from '../clock/clock.js';
import type { HubConfig, StaffConfig } from '../config/schema.js';
import type { Commands } from '../core/commands.js';
import { ErrorCodes, HubError, isHubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { FeedEntry } from '../model/feed-entry.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { FeedLog } from '../store/feed-log.js';
import { formatIso } from '../time/iso.js';
import { type ClientMessage, clientMessageSchema } from './messages.js';

interface FeedClient {
  ws: WebSocket;
  staff: StaffConfig;
  session: Session;
  alive: boolean;
  /** Fires when the session expires (real time). */
  expiry: NodeJS.Timeout | undefined;
}

const REPLAY_PAGE = 1000;

/**
 * Close code for a feed whose login session has ended (logout, expiry, staff removed): log in again.
 * 4000–4999 are the application's own (RFC 6455 §7.4.2); 4401 echoes HTTP 401.
 */
export const SESSION_ENDED_CLOSE = 4401;
/** setTimeout's largest delay; a session that ends later is caught by the periodic re-check. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The duty-staff WebSocket feed (PROTOCOL.md §2): authenticated at the upgrade, scoped to the
 * staff member's homes, numbered by the persisted feed log so `resume` replays what was missed.
 */
export class FeedServer {
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<FeedClient>();
  /** Open feeds by session id, for the per-session cap and for closing them when the session ends. */
  readonly #bySession = new Map<string, Set<FeedClient>>();
  #ping: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Readonly<HubConfig>,
    private readonly directory: Directory,
    private readonly sessions: Sessions,
    private readonly commands: Commands,
    private readonly alertRepo: AlertRepo,
    private readonly feedLog: FeedLog,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Real time, as the sessions keep it (their expiry is not on the drill clock). */
    private readonly realNow: () => number = Date.now,
  ) {
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: config.feed.maxMessageBytes });
  }

  start(): void {
    // Dead peers (no pong within two intervals) are dropped within 60 s; sessions are checked again as well.
    this.#ping = setInterval(() => {
      for (const c of this.#clients) {
        if (!this.#stillLoggedIn(c)) continue;
        if (!c.alive) {
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
    }, this.config.feed.pingIntervalMs);
    this.#ping.unref();
  }

  stop(): void {
    if (this.#ping) clearInterval(this.#ping);
    for (const c of this.#clients) {
      clearTimeout(c.expiry);
      c.ws.close(1001, 'hub shutting down');
    }
    this.#wss.close();
  }

  clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Throws HUB_ERR_TOO_MANY_CONNECTIONS when the session already holds `feed.maxConnectionsPerSession`
   * feeds. The HTTP layer asks before it upgrades (authentication and origin are its checks).
   */
  admit(session: Session): void {
    const open = this.#bySession.get(session.id)?.size ?? 0;
    const max = this.config.feed.maxConnectionsPerSession;
    if (open >= max) {
      this.log.info({ staff: session.staff.id, open }, 'feed upgrade refused: too many connections');
      throw new HubError(
        ErrorCodes.TOO_MANY_CONNECTIONS,
        `this session already has ${open} feed connections (at most ${max}); close one first`,
      );
    }
  }

  /** The WebSocket handshake on /api/v1/feed for an admitted session (ws answers a bad handshake itself). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: Session): void {
    this.admit(session);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, session));
  }

  /** Close, at once, every feed of sessions that have just ended. */
  endSessions(ended: SessionsEnded): void {
    const matches = (c: FeedClient) =>
      'sessionId' in ended ? c.session.id === ended.sessionId : c.session.staff.id === ended.staffId;
    for (const c of [...this.#clients])
      if (matches(c)) this.#endSession(c, ended.reason === 'logout' ? 'logged out' : 'staff removed');
  }

  /**
   * A staff member's role or grids changed: their feeds follow the new scope at once (a fresh
   * snapshot of what they may now see); removed, their feeds close.
   */
  rescope(staffId: string): void {
    for (const c of [...this.#clients]) {
      if (c.staff.id !== staffId) continue;
      if (!this.#stillLoggedIn(c)) continue;
      this.#sendSnapshot(c, this.feedLog.currentSeq());
    }
  }

  /** Send feed entries (already committed) to every client whose scope includes the home. */
  broadcast(entries: readonly FeedEntry[]): void {
    for (const entry of entries) {
      let text: string | undefined;
      for (const c of this.#clients) {
        if (!this.directory.canSee(c.staff, entry.homeId)) continue;
        text ??= JSON.stringify({ ...entry.body, seq: entry.seq });
        this.#send(c, text);
      }
    }
  }

  #onConnection(ws: WebSocket, session: Session): void {
    const staff = session.staff;
    const client: FeedClient = { ws, staff, session, alive: true, expiry: undefined };
    const untilExpiry = session.expiresAt - this.realNow();
    if (untilExpiry <= MAX_TIMER_MS)
      client.expiry = setTimeout(
        () => this.#endSession(client, 'session expired'),
        Math.max(0, untilExpiry),
      ).unref();
    this.#clients.add(client);
    const mine = this.#bySession.get(session.id) ?? new Set<FeedClient>();
    this.#bySession.set(session.id, mine);
    mine.add(client);
    this.metrics.feedClients.set(this.#clients.size);
    this.log.info({ staff: staff.id, clients: this.#clients.size }, 'feed client connected');
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => this.#onMessage(client, data as Buffer, isBinary));
    ws.on('error', (err) => this.log.info({ staff: staff.id, reason: err.message }, 'feed client error'));
    ws.on('close', (code) => {
      this.#forget(client);
      this.log.info({ staff: staff.id, code }, 'feed client disconnected');
    });
    const seq = this.feedLog.currentSeq();
    this.#send(
      client,
      JSON.stringify({
        type: 'hello',
        seq,
        staff: { id: staff.id, name: staff.name, role: staff.role },
        serverTime: formatIso(this.clock.now(), this.config.site.timezone),
      }),
    );
    this.#sendSnapshot(client, seq);
  }

  #sendSnapshot(client: FeedClient, seq: number): void {
    const alerts = this.alertRepo
      .unresolved()
      .filter((r) => this.directory.canSee(client.staff, r.alert.homeId))
      .map((r) => r.alert);
    this.#send(client, JSON.stringify({ type: 'snapshot', seq, alerts }));
  }

  #onMessage(client: FeedClient, data: Buffer, isBinary: boolean): void {
    // Every message acts as the session's staff member only while the session still stands.
    if (!this.#clients.has(client) || !this.#stillLoggedIn(client)) return;
    let msg: ClientMessage;
    let requestId: unknown;
    try {
      if (isBinary) throw new HubError(ErrorCodes.BAD_REQUEST, 'messages must be JSON text');
      const raw: unknown = JSON.parse(data.toString('utf8'));
      requestId = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).requestId : undefined;
      const parsed = clientMessageSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new HubError(
          ErrorCodes.BAD_REQUEST,
          `invalid message: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
        );
      }
      msg = parsed.data;
    } catch (err) {
      const e = isHubError(err) ? err : new HubError(ErrorCodes.BAD_REQUEST, 'message is not JSON');
      this.log.info({ staff: client.staff.id, code: e.code }, 'bad feed message');
      this.#result(client, typeof requestId === 'string' ? requestId : undefined, e);
      return;
    }
    this.#handle(client, msg).then(
      () => {
        if (msg.type !== 'resume') this.#result(client, msg.requestId);
      },
      (err: unknown) => {
        const e = isHubError(err) ? err : new HubError(ErrorCodes.INTERNAL, 'internal error', { cause: err });
        if (e.code === ErrorCodes.INTERNAL) this.log.error({ err }, 'feed request failed');
        this.#result(client, msg.requestId, e);
      },
    );
  }

  async #handle(client: FeedClient, msg: ClientMessage): Promise<void> {
    switch (msg.type) {
      case 'resume':
        this.#resume(client, msg.afterSeq);
        this.#result(client, msg.requestId);
        return;
      default: {
        const { requestId: _ignored, ...action } = msg;
        await this.commands.staffAction(client.staff, action);
        return;
      }
    }
  }

  /** Replay every in-scope entry after `afterSeq`, in order; a fresh snapshot when the log no longer reaches back. */
  #resume(client: FeedClient, afterSeq: number): void {
    if (!this.feedLog.canReplayAfter(afterSeq)) {
      this.#sendSnapshot(client, this.feedLog.currentSeq());
      return;
    }
    let cursor = afterSeq;
    for (;;) {
      const page = this.feedLog.after(cursor, REPLAY_PAGE);
      for (const e of page) {
        if (this.directory.canSee(client.staff, e.homeId))
          this.#send(client, JSON.stringify({ ...e.body, seq: e.seq }));
      }
      if (page.length < REPLAY_PAGE) break;
      cursor = page[page.length - 1]?.seq ?? cursor;
    }
  }

  #result(client: FeedClient, requestId: string | undefined, err?: HubError): void {
    const msg: Record<string, unknown> = { type: 'result', ok: !err };
    if (requestId !== undefined) msg.requestId = requestId;
    if (err) msg.error = { code: err.code, message: err.message };
    this.#send(client, JSON.stringify(msg));
  }

  /** A client whose unsent backlog passes the bound is cut (1013) so it cannot slow the others; it may resume. */
  #send(client: FeedClient, text: string): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (client.ws.bufferedAmount > this.config.feed.maxBacklogBytes) {
      this.log.warn(
        { staff: client.staff.id, buffered: client.ws.bufferedAmount },
        'feed client too slow; closing (1013)',
      );
      this.#forget(client);
      client.ws.close(1013, 'too slow: reconnect and resume');
      setTimeout(() => client.ws.terminate(), 2000).unref();
      return;
    }
    client.ws.send(text);
  }

  /** Re-reads the session; a client whose session has ended is closed and false is returned. */
  #stillLoggedIn(client: FeedClient): boolean {
    const session = this.sessions.recheck(client.session.id);
    if (!session) {
      this.#endSession(client, 'session ended');
      return false;
    }
    client.staff = session.staff;
    return true;
  }

  /** Stop serving the client at once, and close it with 4401 (the peer should log in again). */
  #endSession(client: FeedClient, reason: string): void {
    if (!this.#clients.has(client)) return;
    this.#forget(client);
    this.log.info({ staff: client.staff.id, reason }, 'feed closed: session ended');
    client.ws.close(SESSION_ENDED_CLOSE, reason);
    setTimeout(() => client.ws.terminate(), 2000).unref();
  }

  #forget(client: FeedClient): void {
    clearTimeout(client.expiry);
    this.#clients.delete(client);
    const mine = this.#bySession.get(client.session.id);
    mine?.delete(client);
    if (mine?.size === 0) this.#bySession.delete(client.session.id);
    this.metrics.feedClients.set(this.#clients.size);
  }
}
