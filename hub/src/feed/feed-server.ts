import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Sessions } from '../auth/sessions.js';
import type { Clock } from '../clock/clock.js';
import type { HubConfig, StaffConfig } from '../config/schema.js';
import type { Commands } from '../core/commands.js';
import { ErrorCodes, HubError, isHubError } from '../errors.js';
import { bearerToken } from '../http/credentials.js';
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
  alive: boolean;
}

const REPLAY_PAGE = 1000;

/**
 * The duty-staff WebSocket feed (PROTOCOL.md §2): authenticated at the upgrade, scoped to the
 * staff member's homes, numbered by the persisted feed log so `resume` replays what was missed.
 */
export class FeedServer {
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<FeedClient>();
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
  ) {
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: config.feed.maxMessageBytes });
  }

  start(): void {
    // Dead peers (no pong within two intervals) are dropped within 60 s.
    this.#ping = setInterval(() => {
      for (const c of this.#clients) {
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
    for (const c of this.#clients) c.ws.close(1001, 'hub shutting down');
    this.#wss.close();
  }

  clientCount(): number {
    return this.#clients.size;
  }

  /** HTTP upgrade on /api/v1/feed: 401 without a valid session, never an upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const staff = this.sessions.authenticate(bearerToken(req));
    if (!staff) {
      const body = JSON.stringify({
        error: {
          code: ErrorCodes.UNAUTHENTICATED,
          message: 'log in first: Authorization: Bearer <token> or the session cookie',
        },
      });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      this.log.info({ remote: req.socket.remoteAddress }, 'feed upgrade refused: not authenticated');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, staff));
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

  #onConnection(ws: WebSocket, staff: StaffConfig): void {
    const client: FeedClient = { ws, staff, alive: true };
    this.#clients.add(client);
    this.metrics.feedClients.set(this.#clients.size);
    this.log.info({ staff: staff.id, clients: this.#clients.size }, 'feed client connected');
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => this.#onMessage(client, data as Buffer, isBinary));
    ws.on('error', (err) => this.log.info({ staff: staff.id, reason: err.message }, 'feed client error'));
    ws.on('close', (code) => {
      this.#clients.delete(client);
      this.metrics.feedClients.set(this.#clients.size);
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
      this.#clients.delete(client);
      this.metrics.feedClients.set(this.#clients.size);
      client.ws.close(1013, 'too slow: reconnect and resume');
      setTimeout(() => client.ws.terminate(), 2000).unref();
      return;
    }
    client.ws.send(text);
  }
}
