import { commandsFor } from '../alerts/device-notifier.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { FeedEntry } from '../model/feed-entry.js';
import type { Directory } from '../site/directory.js';
import type { Applied, DirectoryEffect, SessionsEnded } from './applied.js';

/** Where the effects of applied entries go once they are committed. */
export interface EffectSinks {
  /** Committed feed entries, in seq order, for this node's staff clients. */
  feed?(entries: readonly FeedEntry[]): void;
  /**
   * A message to a device. It leaves the hub, so only the node that performs external effects
   * sends it; messages name their alert, so a repeat is harmless to the device.
   */
  command?(deviceId: string, message: object): void;
  /** What committed directory changes mean for this node's connections and feeds. */
  directory?(effects: readonly DirectoryEffect[]): void;
  /** Sessions that ended (logout, staff removed): their feeds close, on every node. */
  sessionEnded?(ended: SessionsEnded): void;
  /** Notification outbox rows were added or attempted: the sender (one node) looks for due rows. */
  notify?(): void;
}

/**
 * Effects after commit: the feed push, device commands, alert metrics, driven from what the applier
 * changed. A failing sink is logged and never undoes the commit or keeps the others from hearing.
 */
export class Effects {
  readonly #sinks: EffectSinks[] = [];

  constructor(
    private readonly directory: Directory,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  attach(sinks: EffectSinks): void {
    this.#sinks.push(sinks);
  }

  run(applied: Applied): void {
    const { alertChanges, feed, commands, directory, sessionsEnded } = applied;
    if (directory.length > 0)
      for (const sink of this.#sinks) {
        try {
          sink.directory?.(directory);
        } catch (err) {
          this.log.error({ err }, 'directory effect failed');
        }
      }
    for (const ended of sessionsEnded) {
      for (const sink of this.#sinks) {
        try {
          sink.sessionEnded?.(ended);
        } catch (err) {
          this.log.error({ err }, 'closing the feeds of an ended session failed');
        }
      }
    }
    if (applied.notify) {
      for (const sink of this.#sinks) {
        try {
          sink.notify?.();
        } catch (err) {
          this.log.error({ err }, 'notification sender failed to wake');
        }
      }
    }
    if (alertChanges.length === 0 && feed.length === 0 && commands.length === 0) return;
    for (const c of alertChanges) {
      const alert = c.record.alert;
      this.metrics.alertChanges.inc({ kind: alert.kind, status: alert.status });
      if (c.firstAck && c.record.acknowledgedAtMs !== null)
        this.metrics.timeToAck.observe(
          { kind: alert.kind },
          (c.record.acknowledgedAtMs - c.record.raisedAtMs) / 1000,
        );
    }
    const entries = alertChanges.length === 0 ? feed : [...alertChanges.map((c) => c.feed), ...feed];
    if (entries.length > 1) entries.sort((a, b) => a.seq - b.seq);
    for (const sink of this.#sinks) {
      if (!sink.feed || entries.length === 0) continue;
      try {
        sink.feed(entries);
      } catch (err) {
        this.log.error({ err }, 'feed broadcast failed');
      }
    }
    for (const change of alertChanges)
      for (const cmd of commandsFor(change, this.directory)) this.#command(cmd.deviceId, cmd.message);
    for (const cmd of commands) {
      if (cmd.message.type === 'checkin.request') this.metrics.checkinRequests.inc();
      this.#command(cmd.deviceId, cmd.message);
    }
  }

  #command(deviceId: string, message: object): void {
    for (const sink of this.#sinks) {
      try {
        sink.command?.(deviceId, message);
      } catch (err) {
        this.log.error({ err, device: deviceId }, 'device command failed');
      }
    }
  }
}
