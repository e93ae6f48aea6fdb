import type { Alert } from '../api/types';

export type ApplyResult = 'added' | 'changed' | 'removed' | 'stale';

/**
 * The unresolved alerts in scope, kept from feed messages. Versions only move forward, so a
 * replay after `resume` that repeats older states (or a resolved alert's earlier states) never
 * brings back what the hub has already moved past.
 */
export class AlertBook {
  readonly #alerts = new Map<string, Alert>();
  readonly #versions = new Map<string, number>();
  /** The last resolved alerts seen on the feed, so an open detail view learns of the resolution. */
  readonly #resolved = new Map<string, Alert>();
  static readonly KEEP_RESOLVED = 200;

  /** The hub's full picture of unresolved alerts at one seq: replaces what we held. */
  applySnapshot(alerts: readonly Alert[]): void {
    this.#alerts.clear();
    for (const a of alerts) {
      this.#alerts.set(a.id, a);
      this.#versions.set(a.id, Math.max(a.version, this.#versions.get(a.id) ?? 0));
    }
  }

  apply(alert: Alert): ApplyResult {
    const seen = this.#versions.get(alert.id);
    if (seen !== undefined && alert.version < seen) return 'stale';
    if (
      seen !== undefined &&
      alert.version === seen &&
      (this.#alerts.has(alert.id) || alert.status === 'resolved')
    ) {
      return 'stale';
    }
    this.#versions.set(alert.id, alert.version);
    if (alert.status === 'resolved') {
      this.#resolved.set(alert.id, alert);
      if (this.#resolved.size > AlertBook.KEEP_RESOLVED) {
        const oldest = this.#resolved.keys().next().value;
        if (oldest !== undefined) this.#resolved.delete(oldest);
      }
      return this.#alerts.delete(alert.id) ? 'removed' : 'stale';
    }
    const had = this.#alerts.has(alert.id);
    this.#alerts.set(alert.id, alert);
    return had ? 'changed' : 'added';
  }

  get(id: string): Alert | undefined {
    return this.#alerts.get(id);
  }

  /** The newest state we know of, resolved ones included. */
  latest(id: string): Alert | undefined {
    return this.#alerts.get(id) ?? this.#resolved.get(id);
  }

  list(): Alert[] {
    return [...this.#alerts.values()];
  }

  get size(): number {
    return this.#alerts.size;
  }
}
