import type { KV } from 'nats';
import type { Logger } from '../log.js';

/** What a node says about itself, every few seconds. */
export interface NodeRecord {
  id: string;
  /** Where staff and devices reach it (as it listens; a balancer may front it). */
  http: number | null;
  mqtt: number | null;
  /** Position of the last log entry it applied. */
  applied: number;
  leader: boolean;
  /** Epoch ms of its last report. */
  seenAt: number;
}

export interface NodeStatus extends NodeRecord {
  /** Reported within the last three intervals. */
  alive: boolean;
}

export const REPORT_MS = 2000;

/** The cluster's nodes in a key-value bucket: each node puts its own record; anyone lists them. */
export class NodeRegistry {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly kv: KV,
    private readonly self: () => NodeRecord,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    void this.report();
    this.#timer = setInterval(() => void this.report(), REPORT_MS);
    this.#timer.unref();
  }

  async report(): Promise<void> {
    const r = this.self();
    try {
      await this.kv.put(r.id, JSON.stringify(r));
    } catch (err) {
      this.log.warn({ err: (err as Error)?.message }, 'node report failed');
    }
  }

  async list(): Promise<NodeStatus[]> {
    const out: NodeStatus[] = [];
    // All keys first: a get() inside the keys iterator would stall its consumer.
    // A key written while the listing runs can come twice.
    const keys = new Set<string>();
    for await (const key of await this.kv.keys()) keys.add(key);
    for (const key of keys) {
      const e = await this.kv.get(key);
      if (e?.operation !== 'PUT') continue;
      try {
        const r = JSON.parse(e.string()) as NodeRecord;
        out.push({ ...r, alive: this.now() - r.seenAt < 3 * REPORT_MS });
      } catch {
        // not ours
      }
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.report();
  }
}
