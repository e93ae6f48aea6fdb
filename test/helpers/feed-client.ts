import WebSocket from 'ws';

export interface FeedMessage {
  type: string;
  seq?: number;
  [key: string]: unknown;
}

/** A real `ws` feed client that records every message and can wait for one matching a predicate. */
export class FeedClient {
  readonly messages: FeedMessage[] = [];
  readonly ws: WebSocket;
  #waiters: Array<{ pred: (m: FeedMessage) => boolean; resolve: (m: FeedMessage) => void }> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as FeedMessage;
      this.messages.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(wsUrl: string, token: string): Promise<FeedClient> {
    const ws = new WebSocket(`${wsUrl}/api/v1/feed`, { headers: { authorization: `Bearer ${token}` } });
    const client = new FeedClient(ws);
    await client.next((m) => m.type === 'snapshot', 5000);
    return client;
  }

  /** The first message (already received or future) matching `pred`. */
  next(pred: (m: FeedMessage) => boolean, timeoutMs = 5000): Promise<FeedMessage> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching feed message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }

  async request(msg: { type: string; [k: string]: unknown }): Promise<FeedMessage> {
    const requestId = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...msg, requestId });
    return this.next((m) => m.type === 'result' && m.requestId === requestId);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
