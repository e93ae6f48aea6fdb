import type { KV } from 'nats';
import type { Logger } from '../log.js';

const KEY = 'leader';

export interface LeaseEvents {
  /** This node holds the lease now. */
  gained(): void;
  /** This node no longer holds it (or cannot tell): stop leader work at once. */
  lost(): void;
}

/**
 * The leader's lease: one key in a JetStream key-value bucket whose entries live `leaseMs` (the
 * bucket's max age). A node takes it with create() (only when no live value exists) and keeps it
 * with update() against the revision it wrote (so two nodes never both renew); it renews every
 * leaseMs/3. A leader that has not had a renewal confirmed for 3/4 of the lease steps down on its
 * own, before the value can expire and another node take it: at most one node acts as leader, as
 * long as the machines' clocks run at about the same rate.
 */
export class LeaderLease {
  #revision = 0;
  /** When the last confirmed renewal (or creation) was sent. */
  #confirmedAt = 0;
  #leader: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stopped = true;

  constructor(
    private readonly kv: KV,
    private readonly node: string,
    private readonly leaseMs: number,
    private readonly events: LeaseEvents,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get isLeader(): boolean {
    return this.#revision > 0;
  }

  /** The node that held the lease when last seen (this one, another, or null: nobody). */
  get leader(): string | null {
    return this.isLeader ? this.node : this.#leader;
  }

  start(): void {
    this.#stopped = false;
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), Math.max(100, Math.floor(this.leaseMs / 3)));
  }

  /** Stop; a leader hands the lease over at once (deletes its own value). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const rev = this.#revision;
    if (rev > 0) {
      this.#drop('stopping');
      await this.kv.delete(KEY, { previousSeq: rev }).catch(() => {});
    }
  }

  async #tick(): Promise<void> {
    // A leader whose renewals have not been confirmed for too long steps down, whatever is pending.
    if (this.isLeader && this.now() - this.#confirmedAt > (this.leaseMs * 3) / 4)
      this.#drop('renewal not confirmed in time');
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    const sentAt = this.now();
    try {
      if (this.isLeader) {
        const rev = await this.kv.update(KEY, this.node, this.#revision);
        // Stepped down meanwhile: the value runs out by itself.
        if (this.isLeader) {
          this.#revision = rev;
          this.#confirmedAt = sentAt;
        }
      } else {
        const rev = await this.kv.create(KEY, this.node);
        if (this.#stopped) {
          await this.kv.delete(KEY, { previousSeq: rev }).catch(() => {});
          return;
        }
        this.#revision = rev;
        this.#confirmedAt = sentAt;
        this.#leader = this.node;
        this.log.info({ node: this.node }, 'this node is the leader now');
        this.events.gained();
      }
    } catch (err) {
      if (this.isLeader) {
        // Another node's value, or no answer: not the leader any more once the lease may have run out.
        if (/wrong last sequence/i.test(String((err as Error)?.message))) this.#drop('lease taken');
      } else await this.#readLeader();
    } finally {
      this.#busy = false;
    }
  }

  async #readLeader(): Promise<void> {
    try {
      const e = await this.kv.get(KEY);
      this.#leader = e && e.operation === 'PUT' ? e.string() : null;
    } catch {
      this.#leader = null;
    }
  }

  #drop(why: string): void {
    if (!this.isLeader) return;
    this.#revision = 0;
    this.#leader = null;
    this.log.warn({ node: this.node, why }, 'this node is no longer the leader');
    this.events.lost();
  }
}
