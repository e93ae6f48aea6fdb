import type { Logger } from '../log.js';

/** What was refused: a publish, a subscription filter, a Last Will, a delivery, a queued message dropped. */
export type RefusalKind = 'publish' | 'subscribe' | 'will' | 'forward' | 'queue';

const MESSAGES: Record<RefusalKind, string> = {
  publish: 'publish refused by ACL',
  subscribe: 'subscribe refused by ACL',
  will: 'last will refused: the device is connected without it',
  forward: 'delivery refused by ACL',
  queue: 'queued message dropped',
};

interface Entry {
  /** Refusals since the last line for this client and kind. */
  suppressed: number;
  /** The last topic refused (for the summary line). */
  topic: string;
  reason: string | undefined;
  /** What the client may use instead (its own topics), for the device maker. */
  expected: string | undefined;
}

/**
 * Log lines for refusals, per client and kind: the first one at once (with its topic), then at most
 * one summary line per `intervalMs` with the count of those left out. A client that sends a 20 KB
 * SUBSCRIBE of refused filters, or publishes outside its topics in a loop, costs two lines a minute,
 * not one per filter; metrics still count each refusal. A client quiet for a whole interval gets a
 * line at once again. At most `maxClients` clients are tracked; refusals beyond them are summed into
 * one line per interval.
 */
export class RefusalLog {
  readonly #entries = new Map<string, Entry>();
  #overflow = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly maxClients = 10_000,
  ) {}

  /** Start the periodic summaries (the timer does not keep the process alive). */
  start(): void {
    this.#timer ??= setInterval(() => this.flush(), this.intervalMs).unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  note(client: string, kind: RefusalKind, topic: string, reason?: string, expected?: string): void {
    const key = `${kind}\0${client}`;
    const entry = this.#entries.get(key);
    if (entry) {
      entry.suppressed++;
      entry.topic = topic;
      entry.reason = reason;
      entry.expected = expected;
      return;
    }
    if (this.#entries.size >= this.maxClients) {
      this.#overflow++;
      return;
    }
    this.#entries.set(key, { suppressed: 0, topic, reason, expected });
    this.log.warn(
      {
        client,
        topic: topic.slice(0, 200),
        ...(reason ? { reason } : {}),
        ...(expected ? { expected } : {}),
      },
      MESSAGES[kind],
    );
  }

  /** One summary line per client and kind with refusals left out since its last line; forget the quiet ones. */
  flush(): void {
    for (const [key, entry] of this.#entries) {
      if (entry.suppressed === 0) {
        this.#entries.delete(key);
        continue;
      }
      const [kind, client] = key.split('\0') as [RefusalKind, string];
      this.log.warn(
        {
          client,
          more: entry.suppressed,
          lastTopic: entry.topic.slice(0, 200),
          ...(entry.reason ? { reason: entry.reason } : {}),
          ...(entry.expected ? { expected: entry.expected } : {}),
          windowMs: this.intervalMs,
        },
        `${MESSAGES[kind]} (repeated)`,
      );
      entry.suppressed = 0;
    }
    if (this.#overflow > 0) {
      this.log.warn(
        { more: this.#overflow, windowMs: this.intervalMs },
        'refusals of further clients not logged',
      );
      this.#overflow = 0;
    }
  }
}
