import type { Clock, TimerHandle } from '../clock/clock.js';
import type { NotificationsConfig } from '../config/notify-schema.js';
import type { Logger } from '../log.js';
import type { DeliveryLogEntry } from '../model/entries.js';
import type { AttemptResult, NotifyChannel, NotifyRow } from '../model/notify.js';
import { reachableChannels } from '../notify/plan.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { NotifyRepo } from '../store/notify-repo.js';
import type { ChannelAdapter, Delivery, SendResult } from './channel.js';
import { type ComposeParts, composeDelivery } from './compose.js';
import { RateLimits } from './rate-limit.js';

/** Sends at once at most this many requests. */
const MAX_IN_FLIGHT = 8;
const PAGE = 200;
const BACKOFF_BASE_MS = 5_000;
const BACKOFF_CAP_MS = 10 * 60_000;

export interface SenderParts {
  repo: NotifyRepo;
  alertRepo: AlertRepo;
  directory: Directory;
  config: NotificationsConfig;
  compose: ComposeParts;
  channels: Partial<Record<NotifyChannel, ChannelAdapter>>;
  /** Records an attempt: a `delivery` log entry, applied (and so the row's status) before it resolves. */
  submit(entry: DeliveryLogEntry): Promise<unknown>;
  /** Hub time (the drill clock in drills): row due times, entry times. */
  clock: Clock;
  /** Real time: the services' rate limits. */
  realNow?: () => number;
  random?: () => number;
  log: Logger;
  onAttempt?(channel: NotifyChannel, result: AttemptResult): void;
}

/**
 * Sends due outbox rows (one node only: alone, the hub; in a cluster, the leader). It may use real
 * time and randomness: every result it gets is recorded as a `delivery` entry, so the state (and
 * every replay) holds what happened, never what the sender thought. A row goes out only while the
 * applied state says `pending`; at most one send per row is under way. Between a send and its
 * record a crash can repeat it once: the row id travels as the idempotency key (docs/notifications.md).
 */
export class NotificationSender {
  readonly #inFlight = new Set<string>();
  readonly #limits: RateLimits;
  readonly #random: () => number;
  #sending = 0;
  #running = false;
  #again = false;
  #stopped = true;
  #dueTimer: TimerHandle | undefined;
  #dueAt = Number.POSITIVE_INFINITY;
  #limitTimer: NodeJS.Timeout | undefined;
  readonly #idle: Array<() => void> = [];

  constructor(private readonly p: SenderParts) {
    this.#limits = new RateLimits(p.realNow ?? Date.now);
    this.#random = p.random ?? Math.random;
  }

  start(): void {
    this.#stopped = false;
    this.wake();
  }

  stop(): void {
    this.pause();
    for (const c of Object.values(this.p.channels)) c?.close?.();
  }

  /** No more sends from this node for now, channels kept open (a cluster node no longer the leader); start() resumes. */
  pause(): void {
    this.#stopped = true;
    this.#dueTimer?.cancel();
    this.#dueTimer = undefined;
    if (this.#limitTimer) clearTimeout(this.#limitTimer);
    this.#limitTimer = undefined;
  }

  /** Rows were added or attempted: look for due rows soon. */
  wake(): void {
    if (this.#stopped) return;
    setImmediate(() => this.#pump());
  }

  /** Sends under way (tests wait for none). */
  get sending(): number {
    return this.#sending;
  }

  /** Resolves when nothing is being sent (tests). */
  idle(): Promise<void> {
    if (this.#sending === 0 && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        this.#round();
      } while (this.#again);
    } catch (err) {
      this.p.log.error({ err }, 'notification sender failed; trying again in 5 s');
      this.#armLimitTimer(5000);
    } finally {
      this.#running = false;
      this.#maybeIdle();
    }
  }

  #round(): void {
    const now = this.p.clock.now();
    const groups = new Map<string, NotifyRow[]>();
    let limitWait = Number.POSITIVE_INFINITY;
    for (const row of this.p.repo.due(now, PAGE)) {
      if (this.#inFlight.has(row.id)) continue;
      const adapter = this.p.channels[row.channel];
      const delivery = adapter && this.#compose(row, now);
      if (!adapter || !delivery) {
        void this.#record(row, { outcome: 'permanent', detail: 'contact or channel no longer configured' });
        continue;
      }
      const key = adapter.batchKey?.(delivery) ?? row.id;
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    for (const rows of groups.values()) {
      if (this.#sending >= MAX_IN_FLIGHT) {
        this.#again = false;
        break;
      }
      const first = rows[0] as NotifyRow;
      const adapter = this.p.channels[first.channel] as ChannelAdapter;
      const deliveries = rows.map((r) => this.#compose(r, now)).filter((d) => d !== undefined);
      const firstDelivery = deliveries[0];
      if (!firstDelivery) continue;
      const bucket = adapter.bucket(firstDelivery);
      const perMinute = this.#perMinute(first.channel);
      if (!this.#limits.take(bucket, perMinute)) {
        limitWait = Math.min(limitWait, this.#limits.waitMs(bucket, perMinute));
        continue;
      }
      for (const r of rows) this.#inFlight.add(r.id);
      this.#sending++;
      void this.#send(adapter, bucket, perMinute, deliveries);
    }
    if (limitWait < Number.POSITIVE_INFINITY) this.#armLimitTimer(limitWait);
    this.#armDueTimer();
  }

  #compose(row: NotifyRow, now: number): Delivery | undefined {
    const rec = this.p.alertRepo.get(row.alertId);
    const home = this.p.directory.home(row.homeId);
    const contact = home?.contacts[row.contact];
    if (!rec || !home || !contact) return undefined;
    if (!reachableChannels(contact, this.p.config, home).includes(row.channel)) return undefined;
    return composeDelivery(this.p.compose, row, rec, home, contact, now);
  }

  async #send(
    adapter: ChannelAdapter,
    bucket: string,
    perMinute: number,
    deliveries: Delivery[],
  ): Promise<void> {
    try {
      // The state may have moved on while the request waited its turn (staff acknowledged).
      const live = deliveries.filter((d) => d.row && this.p.repo.get(d.row.id)?.status === 'pending');
      if (live.length === 0) return;
      let result: SendResult;
      try {
        result = await adapter.send(live);
      } catch (err) {
        result = { outcome: 'transient', detail: (err as Error).message?.slice(0, 80) ?? 'error' };
      }
      if (result.outcome === 'rate_limited') this.#limits.drain(bucket, perMinute);
      for (const d of live) if (d.row) await this.#record(d.row, result);
    } finally {
      for (const d of deliveries) if (d.row) this.#inFlight.delete(d.row.id);
      this.#sending--;
      this.wake();
      this.#maybeIdle();
    }
  }

  /** Record the attempt as a `delivery` entry; a failure to record leaves the row pending (tried again). */
  async #record(row: NotifyRow, result: SendResult): Promise<void> {
    const attempt = row.attempts + 1;
    const now = this.p.clock.now();
    let outcome: AttemptResult;
    let retryAt: number | undefined;
    if (result.outcome === 'sent') outcome = 'sent';
    else if (result.outcome === 'permanent' || attempt >= this.p.config.maxAttempts) outcome = 'failed';
    else {
      outcome = 'retry';
      const backoff = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
      // Half the backoff, plus up to as much again at random: retries of many rows spread out.
      const jittered = Math.round(backoff / 2 + (this.#random() * backoff) / 2);
      retryAt = now + Math.max(jittered, result.retryAfterMs ?? 0);
    }
    this.p.onAttempt?.(row.channel, outcome);
    try {
      await this.p.submit({
        kind: 'delivery',
        at: now,
        rowId: row.id,
        attempt,
        result: outcome,
        detail: result.detail,
        ...(retryAt !== undefined ? { retryAt } : {}),
      });
    } catch (err) {
      this.p.log.error({ err, row: row.id }, 'could not record a delivery attempt; the row stays pending');
      this.#armLimitTimer(5000);
    }
  }

  #perMinute(channel: NotifyChannel): number {
    const c = this.p.config;
    switch (channel) {
      case 'email':
        return c.smtp?.perMinute ?? 60;
      case 'webhook':
        return c.webhook?.perMinute ?? 60;
      case 'sms':
        return c.sms?.perMinute ?? 60;
      case 'wecom':
        return c.wecom?.perMinute ?? 20;
      case 'dingtalk':
        return c.dingtalk?.perMinute ?? 20;
    }
  }

  /** Wake when the earliest pending row falls due (hub time: the drill clock moves it in drills). */
  #armDueTimer(): void {
    const next = this.p.repo.nextDue();
    if (next === undefined || next <= this.p.clock.now()) {
      // Due now but held (in flight or rate-limited): the sends' ends and the limit timer wake us.
      return;
    }
    if (this.#dueTimer && this.#dueAt === next) return;
    this.#dueTimer?.cancel();
    this.#dueAt = next;
    this.#dueTimer = this.p.clock.at(next, () => {
      this.#dueTimer = undefined;
      this.#dueAt = Number.POSITIVE_INFINITY;
      this.wake();
    });
  }

  #armLimitTimer(ms: number): void {
    if (this.#limitTimer || this.#stopped) return;
    this.#limitTimer = setTimeout(() => {
      this.#limitTimer = undefined;
      this.wake();
    }, ms);
    this.#limitTimer.unref();
  }

  #maybeIdle(): void {
    if (this.#sending > 0 || this.#running) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
