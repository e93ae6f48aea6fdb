import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock/clock.js';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { FeedEntry, FeedLog } from '../feed/feed-log.js';
import type { Messages } from '../i18n/messages.js';
import type { Metrics } from '../metrics.js';
import type { Decision } from '../rules/types.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { Db } from '../store/sqlite-db.js';
import { formatIso } from '../time/iso.js';
import type { AlertRecord, Outcome } from './types.js';

export type ChangeCause = 'raised' | 'repeated' | 'annotated' | 'acknowledged' | 'resolved' | 'noted';

export interface AlertChange {
  record: AlertRecord;
  cause: ChangeCause;
  feed: FeedEntry;
  staff?: StaffConfig;
}

/** Sortable, URL-safe alert id: time first so ids order like their raise time. */
function newAlertId(now: number): string {
  return `al-${now.toString(36)}-${randomBytes(5).toString('hex')}`;
}

/**
 * The alert lifecycle: open → acknowledged → resolved, repeats merged into `occurrences`. Every
 * change bumps `version`, is written with its feed entry in the caller's transaction, and is
 * returned so the composition root can fan it out after the commit.
 */
export class AlertService {
  constructor(
    private readonly db: Db,
    private readonly repo: AlertRepo,
    private readonly feedLog: FeedLog,
    private readonly directory: Directory,
    private readonly messages: Messages,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  /** Apply a rule decision. Must run inside the processor's transaction. */
  apply(decision: Decision, now: number): AlertChange | null {
    const open = this.repo.findOpen(decision.mergeKey);
    if (decision.type === 'annotate') {
      if (!open) return null;
      const next = this.#next(open, now);
      next.alert.notes.push({ at: next.alert.updatedAt, by: 'system', text: this.messages.t(this.directory.config.site.locale, decision.noteKey) });
      if (decision.cancelledByResident) next.alert.cancelledByResident = true;
      return this.#save(next, open.alert.version, 'annotated');
    }
    if (open) {
      const next = this.#next(open, now);
      next.alert.occurrences += 1;
      return this.#save(next, open.alert.version, 'repeated');
    }
    const home = this.directory.home(decision.homeId);
    const tz = this.directory.timezoneOf(decision.homeId);
    const iso = formatIso(now, tz);
    const record: AlertRecord = {
      mergeKey: decision.mergeKey,
      raisedAtMs: now,
      updatedAtMs: now,
      acknowledgedAtMs: null,
      resolvedAtMs: null,
      alert: {
        id: newAlertId(now),
        version: 1,
        kind: decision.kind,
        severity: decision.severity,
        status: 'open',
        homeId: decision.homeId,
        residentIds: home?.residents.map((r) => r.id) ?? [],
        deviceId: decision.deviceId,
        raisedAt: iso,
        updatedAt: iso,
        acknowledgedAt: null,
        acknowledgedBy: null,
        resolvedAt: null,
        resolvedBy: null,
        outcome: null,
        occurrences: 1,
        escalationLevel: 0,
        cancelledByResident: false,
        title: this.messages.all(`alert.${decision.kind}`, { address: home?.address ?? decision.homeId }),
        notes: [],
      },
    };
    this.repo.insert(record);
    this.metrics.alertChanges.inc({ kind: record.alert.kind, status: 'open' });
    return { record, cause: 'raised', feed: this.#feed(record) };
  }

  acknowledge(alertId: string, staff: StaffConfig, expectedVersion?: number): AlertChange | null {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      if (cur.alert.status === 'resolved') throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
      if (cur.alert.status === 'acknowledged') {
        if (cur.alert.acknowledgedBy === staff.id) return null; // idempotent for the same person
        const by = this.directory.staff(cur.alert.acknowledgedBy ?? '')?.name ?? cur.alert.acknowledgedBy;
        throw new HubError(ErrorCodes.ALERT_ACKNOWLEDGED, `already acknowledged by ${by}`);
      }
      const now = this.clock.now();
      const next = this.#next(cur, now);
      next.alert.status = 'acknowledged';
      next.alert.acknowledgedAt = next.alert.updatedAt;
      next.alert.acknowledgedBy = staff.id;
      next.acknowledgedAtMs = now;
      this.metrics.timeToAck.observe({ kind: cur.alert.kind }, (now - cur.raisedAtMs) / 1000);
      return { ...this.#save(next, cur.alert.version, 'acknowledged'), staff };
    })();
  }

  resolve(alertId: string, staff: StaffConfig, outcome: Outcome, note: string | undefined, expectedVersion?: number): AlertChange {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      if (cur.alert.status === 'resolved') throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
      const now = this.clock.now();
      const next = this.#next(cur, now);
      if (next.alert.status === 'open') {
        next.alert.acknowledgedAt = next.alert.updatedAt;
        next.alert.acknowledgedBy = staff.id;
        next.acknowledgedAtMs = now;
        this.metrics.timeToAck.observe({ kind: cur.alert.kind }, (now - cur.raisedAtMs) / 1000);
      }
      next.alert.status = 'resolved';
      next.alert.resolvedAt = next.alert.updatedAt;
      next.alert.resolvedBy = staff.id;
      next.alert.outcome = outcome;
      next.resolvedAtMs = now;
      if (note) next.alert.notes.push({ at: next.alert.updatedAt, by: staff.id, text: note });
      return { ...this.#save(next, cur.alert.version, 'resolved'), staff };
    })();
  }

  addNote(alertId: string, staff: StaffConfig, text: string, expectedVersion?: number): AlertChange {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      const next = this.#next(cur, this.clock.now());
      next.alert.notes.push({ at: next.alert.updatedAt, by: staff.id, text });
      return { ...this.#save(next, cur.alert.version, 'noted'), staff };
    })();
  }

  /** An alert the staff member may see; others are reported as not found, so ids leak nothing. */
  #visible(alertId: string, staff: StaffConfig, expectedVersion: number | undefined): AlertRecord {
    const rec = this.repo.get(alertId);
    if (!rec || !this.directory.canSee(staff, rec.alert.homeId)) throw new HubError(ErrorCodes.ALERT_NOT_FOUND, `no alert ${alertId}`);
    if (expectedVersion !== undefined && expectedVersion !== rec.alert.version) {
      throw new HubError(ErrorCodes.VERSION_CONFLICT, `the alert changed (version ${rec.alert.version}, you had ${expectedVersion}); reload it`);
    }
    return rec;
  }

  #next(cur: AlertRecord, now: number): AlertRecord {
    const next = structuredClone(cur);
    next.alert.version += 1;
    next.updatedAtMs = now;
    next.alert.updatedAt = formatIso(now, this.directory.timezoneOf(cur.alert.homeId));
    return next;
  }

  #save(next: AlertRecord, previousVersion: number, cause: ChangeCause): AlertChange {
    if (!this.repo.update(next, previousVersion)) {
      throw new HubError(ErrorCodes.VERSION_CONFLICT, 'the alert was changed by someone else; reload it');
    }
    this.metrics.alertChanges.inc({ kind: next.alert.kind, status: next.alert.status });
    return { record: next, cause, feed: this.#feed(next) };
  }

  #feed(rec: AlertRecord): FeedEntry {
    return this.feedLog.append(rec.updatedAtMs, 'alert', rec.alert.homeId, { type: 'alert', alert: rec.alert });
  }
}
