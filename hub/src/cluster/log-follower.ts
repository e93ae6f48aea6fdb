import type { ConsumerMessages, JetStreamClient, JsMsg } from 'nats';
import type { Logger } from '../log.js';
import type { LogEntry, Positioned } from '../model/entries.js';
import type { LogNames } from './nats-log.js';

/** What the follower feeds: the state machine's `copy()` and its position. */
export interface LogSink {
  processedSeq(): number;
  copy(page: readonly Positioned[]): void;
}

const PAGE = 500;
const RETRY_MS = 500;

/**
 * Reads the replicated log in order from the position after the last one applied here, with an
 * ordered consumer (the client recreates it after a NATS server is lost), and hands it to the state
 * machine in pages: whatever arrived in one turn of the event loop, at most PAGE entries, one unit
 * of work each. When applying fails, the consumer is dropped and read again from the marker.
 */
export class LogFollower {
  #messages: ConsumerMessages | undefined;
  #page: Positioned[] = [];
  #scheduled = false;
  #stopped = false;
  #restarting = false;
  /** Entries in the stream after the last one received (from the message metadata). */
  #pending = 0;
  #lastReceived = 0;
  #caughtUpWaiters: Array<{ seq: number; resolve: () => void }> = [];
  #failures = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly names: LogNames,
    private readonly sink: LogSink,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#stopped = false;
    void this.#run();
  }

  /** How far behind the stream this node is, as far as it knows. */
  lag(): number {
    return this.#pending + this.#page.length + Math.max(0, this.#lastReceived - this.sink.processedSeq());
  }

  /** Resolves once every entry up to `seq` is applied here. */
  appliedUpTo(seq: number): Promise<void> {
    if (this.sink.processedSeq() >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#caughtUpWaiters.push({ seq, resolve }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const m = this.#messages;
    this.#messages = undefined;
    if (m) await m.close().catch(() => {});
    this.#flush();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        const from = this.sink.processedSeq() + 1;
        const consumer = await this.js.consumers.get(this.names.stream, { opt_start_seq: from });
        const messages = await consumer.consume({ max_messages: 1000, expires: 5000, idle_heartbeat: 1000 });
        this.#messages = messages;
        this.#failures = 0;
        for await (const m of messages) {
          if (this.#stopped) break;
          this.#receive(m);
        }
      } catch (err) {
        if (this.#stopped) break;
        this.#failures++;
        if (this.#failures === 1 || this.#failures % 20 === 0)
          this.log.warn(
            { err: (err as Error)?.message, failures: this.#failures },
            'reading the replicated log failed; retrying',
          );
      }
      this.#messages = undefined;
      if (!this.#stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  #receive(m: JsMsg): void {
    const position = m.seq;
    this.#pending = m.info.pending;
    this.#lastReceived = Math.max(this.#lastReceived, position);
    if (position <= this.sink.processedSeq() || position <= (this.#page.at(-1)?.position ?? 0)) return;
    let entry: LogEntry;
    try {
      entry = JSON.parse(m.string()) as LogEntry;
    } catch {
      // Every node reads the same bytes and skips them alike.
      this.log.error({ position }, 'an entry of the replicated log is not JSON; skipped');
      return;
    }
    this.#page.push({ position, entry });
    if (this.#page.length >= PAGE) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const page = this.#page;
    if (page.length === 0) return;
    this.#page = [];
    try {
      this.sink.copy(page);
    } catch (err) {
      // Nothing is lost: the entries are still in the stream; read again from the marker.
      this.log.error(
        { err, from: page[0]?.position },
        'applying entries of the replicated log failed; reading again',
      );
      void this.#restart();
      return;
    }
    const applied = this.sink.processedSeq();
    if (this.#caughtUpWaiters.length > 0) {
      const ready = this.#caughtUpWaiters.filter((w) => w.seq <= applied);
      this.#caughtUpWaiters = this.#caughtUpWaiters.filter((w) => w.seq > applied);
      for (const w of ready) w.resolve();
    }
  }

  async #restart(): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    const m = this.#messages;
    this.#messages = undefined;
    this.#page = [];
    await m?.close().catch(() => {});
    this.#restarting = false;
  }
}
