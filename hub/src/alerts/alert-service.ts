import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock/clock.js';
import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Messages } from '../i18n/messages.js';
import type { Metrics } from '../metrics.js';
import type { AlertNote, AlertRecord, Outcome } from '../model/alert.js';
import type { FeedEntry } from '../model/feed-entry.js';
import type { TimerRow } from '../model/timer.js';
import type { Decision } from '../rules/types.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { FeedLog } from '../store/feed-log.js';
import type { Db, Meta } from '../store/sqlite-db.js';
import { formatIso } from '../time/iso.js';
import type { Scheduler } from '../timers/scheduler.js';
import { escalationPlan } from './escalation.js';

export type ChangeCause =
  | 'raised'
  | 'repeated'
  | 'annotated'
  | 'acknowledged'
  | 'resolved'
  | 'noted'
  | 'assigned'
  | 'escalated'
  | 'reminder';

export interface AlertChange {
  record: AlertRecord;
  cause: ChangeCause;
  feed: FeedEntry;
  staff?: StaffConfig;
  /** The device whose event caused this change (raise or repeat). */
  sourceDeviceId?: string;
}

/**
 * Sortable, URL-safe alert id: raise time, then a persisted counter (so two alerts raised in the
 * same millisecond still sort in the order they were raised), then a random tail.
 */
function newAlertId(now: number, n: number): string {
  return `al-${now.toString(36).padStart(9, '0')}-${n.toString(36).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
}

/**
 * The alert lifecycle: open → acknowledged → resolved, repeats merged into `occurrences`, the
 * escalation ladder. Every change bumps `version`, is written with its feed entry in the current
 * transaction, and is returned so the composition root can fan it out after the commit.
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
    private readonly scheduler: Scheduler,
    private readonly meta: Meta,
  ) {}

  /** A note written by the hub: `text` in the site's language, `texts` in every language for the console. */
  #systemNote(at: string, key: string, params: Record<string, string> = {}): AlertNote {
    return {
      at,
      by: 'system',
      text: this.messages.t(this.directory.config.site.locale, key, params),
      texts: this.messages.all(key, params),
    };
  }

  /** Apply a rule decision. Runs inside the caller's transaction. */
  apply(decision: Decision, now: number, late = false): AlertChange | null {
    const open = this.repo.findOpen(decision.mergeKey);
    if (decision.type === 'annotate') {
      if (!open) return null;
      const next = this.#next(open, now);
      next.alert.notes.push(this.#systemNote(next.alert.updatedAt, decision.note.key, decision.note.params));
      if (decision.cancelledByResident) next.alert.cancelledByResident = true;
      return this.#save(next, open.alert.version, 'annotated', now);
    }
    if (open) {
      const next = this.#next(open, now);
      next.alert.occurrences += 1;
      const source = decision.deviceId;
      if (source && !(next.notifyDeviceIds ?? []).includes(source))
        next.notifyDeviceIds = [...(next.notifyDeviceIds ?? []), source];
      const change = this.#save(next, open.alert.version, 'repeated', now);
      return source ? { ...change, sourceDeviceId: source } : change;
    }
    const home = this.directory.home(decision.homeId);
    const iso = formatIso(now, this.directory.timezoneOf(decision.homeId));
    const n = this.meta.getNumber('alert_counter', 0) + 1;
    this.meta.set('alert_counter', n);
    const id = newAlertId(now, n);
    const window = this.directory.config.rules.incidentWindowMinutes * 60_000;
    const related = window > 0 ? this.repo.latestInHome(decision.homeId, now - window) : undefined;
    const notes: AlertNote[] = [];
    if (decision.note) notes.push(this.#systemNote(iso, decision.note.key, decision.note.params));
    if (late) notes.push(this.#systemNote(iso, 'note.fired_late'));
    const record: AlertRecord = {
      mergeKey: decision.mergeKey,
      raisedAtMs: now,
      updatedAtMs: now,
      acknowledgedAtMs: null,
      resolvedAtMs: null,
      drill: this.clock.kind === 'manual',
      notifyDeviceIds: decision.deviceId ? [decision.deviceId] : [],
      alert: {
        id,
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
        notes,
        incidentId: related?.alert.incidentId ?? id,
        assignedTo: null,
        late,
      },
    };
    this.repo.insert(record);
    this.metrics.alertChanges.inc({ kind: record.alert.kind, status: 'open' });
    this.#plan(record, 'raised', now);
    const change: AlertChange = { record, cause: 'raised', feed: this.#feed(record) };
    return decision.deviceId ? { ...change, sourceDeviceId: decision.deviceId } : change;
  }

  /** An escalation timer fell due. Runs inside the caller's transaction. */
  onTimer(timer: TimerRow, now: number): AlertChange | null {
    this.scheduler.cancel(timer.key);
    const cur = this.repo.get(String(timer.data.alertId));
    if (!cur) return null;
    const step = String(timer.data.step);
    if (step === 'reminder') {
      if (cur.alert.status !== 'acknowledged') return null;
      const next = this.#next(cur, now);
      next.alert.notes.push(
        this.#systemNote(next.alert.updatedAt, 'note.reminder', {
          minutes: String(this.directory.config.rules.escalation.reminderMinutes),
        }),
      );
      const change = this.#save(next, cur.alert.version, 'reminder', now);
      const settings = this.directory.config.rules.escalation;
      this.scheduler.set({ ...timer, dueAt: now + settings.reminderMinutes * 60_000 });
      return change;
    }
    const level = Number(step);
    if (cur.alert.status !== 'open' || cur.alert.escalationLevel >= level) return null;
    const next = this.#next(cur, now);
    next.alert.escalationLevel = level;
    next.alert.notes.push(this.#systemNote(next.alert.updatedAt, `note.escalated_${level}`));
    return this.#save(next, cur.alert.version, 'escalated', now);
  }

  acknowledge(alertId: string, staff: StaffConfig, expectedVersion?: number): AlertChange | null {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      if (cur.alert.status === 'resolved')
        throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
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
      return { ...this.#save(next, cur.alert.version, 'acknowledged', now), staff };
    })();
  }

  resolve(
    alertId: string,
    staff: StaffConfig,
    outcome: Outcome,
    note: string | undefined,
    expectedVersion?: number,
  ): AlertChange {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      if (cur.alert.status === 'resolved')
        throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
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
      return { ...this.#save(next, cur.alert.version, 'resolved', now), staff };
    })();
  }

  addNote(alertId: string, staff: StaffConfig, text: string, expectedVersion?: number): AlertChange {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      const now = this.clock.now();
      const next = this.#next(cur, now);
      next.alert.notes.push({ at: next.alert.updatedAt, by: staff.id, text });
      return { ...this.#save(next, cur.alert.version, 'noted', now), staff };
    })();
  }

  assign(alertId: string, staff: StaffConfig, assigneeId: string, expectedVersion?: number): AlertChange {
    return this.db.transaction(() => {
      const cur = this.#visible(alertId, staff, expectedVersion);
      if (cur.alert.status === 'resolved')
        throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
      const assignee = this.directory.staff(assigneeId);
      if (!assignee || !this.directory.canSee(assignee, cur.alert.homeId)) {
        throw new HubError(
          ErrorCodes.BAD_REQUEST,
          `staff member ${assigneeId} does not exist or cannot see this home`,
        );
      }
      const now = this.clock.now();
      const next = this.#next(cur, now);
      next.alert.assignedTo = assignee.id;
      return { ...this.#save(next, cur.alert.version, 'assigned', now), staff };
    })();
  }

  /** An alert the staff member may see; others are reported as not found, so ids leak nothing. */
  #visible(alertId: string, staff: StaffConfig, expectedVersion: number | undefined): AlertRecord {
    const rec = this.repo.get(alertId);
    if (!rec || !this.directory.canSee(staff, rec.alert.homeId))
      throw new HubError(ErrorCodes.ALERT_NOT_FOUND, `no alert ${alertId}`);
    if (expectedVersion !== undefined && expectedVersion !== rec.alert.version) {
      throw new HubError(
        ErrorCodes.VERSION_CONFLICT,
        `the alert changed (now version ${rec.alert.version}, you had ${expectedVersion}); reload it`,
      );
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

  #save(next: AlertRecord, previousVersion: number, cause: ChangeCause, now: number): AlertChange {
    if (!this.repo.update(next, previousVersion)) {
      throw new HubError(ErrorCodes.VERSION_CONFLICT, 'the alert was changed by someone else; reload it');
    }
    this.metrics.alertChanges.inc({ kind: next.alert.kind, status: next.alert.status });
    this.#plan(next, cause, now);
    return { record: next, cause, feed: this.#feed(next) };
  }

  #plan(rec: AlertRecord, cause: ChangeCause, now: number): void {
    const plan = escalationPlan(rec, cause, this.directory.config.rules.escalation, now);
    for (const key of plan.cancel) this.scheduler.cancel(key);
    for (const t of plan.set) this.scheduler.set(t);
  }

  #feed(rec: AlertRecord): FeedEntry {
    return this.feedLog.append(rec.updatedAtMs, 'alert', rec.alert.homeId, {
      type: 'alert',
      alert: rec.alert,
    });
  }
}
