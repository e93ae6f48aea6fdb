import type { StaffConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { Messages } from '../i18n/messages.js';
import type { AlertNote, AlertRecord, Outcome } from '../model/alert.js';
import type { AlertDecision } from '../model/decision.js';
import type { StaffAction } from '../model/entries.js';
import type { FeedEntry } from '../model/feed-entry.js';
import type { TimerRow } from '../model/timer.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { FeedLog } from '../store/feed-log.js';
import { formatIso } from '../time/iso.js';
import type { Scheduler } from '../timers/scheduler.js';
import type { AlertChange, ChangeCause, EntryContext } from './alert-change.js';
import { escalationPlan } from './escalation.js';

/**
 * Sortable, URL-safe alert id from the entry that raised it: its time, its log position, and the
 * number of alerts that entry raised before this one.
 */
export function alertIdFor(ctx: EntryContext, n: number): string {
  return `al-${ctx.at.toString(36).padStart(9, '0')}-${ctx.position.toString(36).padStart(7, '0')}-${n}`;
}

/**
 * The alert lifecycle: open → acknowledged → resolved, repeats merged into `occurrences`, the
 * escalation ladder. Every change bumps `version` and is written with its feed entry in the
 * applier's unit of work; nothing here reads a clock or opens a transaction.
 */
export class AlertService {
  constructor(
    private readonly repo: AlertRepo,
    private readonly feedLog: FeedLog,
    private readonly directory: Directory,
    private readonly messages: Messages,
    private readonly scheduler: Scheduler,
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

  /** Carry out a rule decision: raise, count a repeat, or annotate. */
  decide(decision: AlertDecision, ctx: EntryContext): AlertChange | null {
    const now = ctx.at;
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
    const id = alertIdFor(ctx, ctx.raised++);
    const window = this.directory.config.rules.incidentWindowMinutes * 60_000;
    const related = window > 0 ? this.repo.latestInHome(decision.homeId, now - window) : undefined;
    const notes: AlertNote[] = [];
    const tz = this.directory.timezoneOf(decision.homeId);
    for (const t of decision.timeline ?? [])
      notes.push(this.#systemNote(formatIso(t.at, tz), t.note.key, t.note.params));
    if (decision.note) notes.push(this.#systemNote(iso, decision.note.key, decision.note.params));
    if (ctx.late) notes.push(this.#systemNote(iso, 'note.fired_late'));
    const record: AlertRecord = {
      mergeKey: decision.mergeKey,
      raisedAtMs: now,
      updatedAtMs: now,
      acknowledgedAtMs: null,
      resolvedAtMs: null,
      drill: this.directory.config.clock === 'manual',
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
        late: ctx.late,
      },
    };
    this.repo.insert(record);
    this.#plan(record, 'raised', now);
    const change: AlertChange = { record, cause: 'raised', feed: this.#feed(record) };
    return decision.deviceId ? { ...change, sourceDeviceId: decision.deviceId } : change;
  }

  /**
   * A note the hub adds to an alert about something outside the lifecycle (notifications: who was
   * told, who could not be reached, who is going). Null when there is no such alert.
   */
  annotate(
    alertId: string,
    key: string,
    params: Record<string, string>,
    now: number,
    /** Parameters that are message keys themselves (a channel's name), said in each language. */
    keyParams: Record<string, string> = {},
  ): AlertChange | null {
    const cur = this.repo.get(alertId);
    if (!cur) return null;
    const next = this.#next(cur, now);
    const texts: Record<string, string> = {};
    for (const locale of this.messages.locales()) {
      const said = Object.fromEntries(
        Object.entries(keyParams).map(([k, v]) => [k, this.messages.t(locale, v)]),
      );
      texts[locale] = this.messages.t(locale, key, { ...params, ...said });
    }
    const site = this.directory.config.site.locale;
    next.alert.notes.push({
      at: next.alert.updatedAt,
      by: 'system',
      text: texts[site] ?? this.messages.t(site, key, params),
      texts,
    });
    return this.#save(next, cur.alert.version, 'annotated', now);
  }

  /** An escalation timer (owner `alert`) fell due. */
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

  /** What a staff member did to an alert. Null when it changed nothing (a repeated ack by the same person). */
  act(staff: StaffConfig, action: StaffAction, now: number): AlertChange | null {
    switch (action.type) {
      case 'ack':
        return this.#acknowledge(action.alertId, staff, now, action.version);
      case 'resolve':
        return this.#resolve(action.alertId, staff, action.outcome, action.note, now, action.version);
      case 'note':
        return this.#addNote(action.alertId, staff, action.text, now, action.version);
      case 'assign':
        return this.#assign(action.alertId, staff, action.staffId, now, action.version);
    }
  }

  #acknowledge(
    alertId: string,
    staff: StaffConfig,
    now: number,
    expectedVersion?: number,
  ): AlertChange | null {
    const cur = this.#visible(alertId, staff, expectedVersion);
    if (cur.alert.status === 'resolved')
      throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
    if (cur.alert.status === 'acknowledged') {
      if (cur.alert.acknowledgedBy === staff.id) return null; // idempotent for the same person
      const by = this.directory.staff(cur.alert.acknowledgedBy ?? '')?.name ?? cur.alert.acknowledgedBy;
      throw new HubError(ErrorCodes.ALERT_ACKNOWLEDGED, `already acknowledged by ${by}`);
    }
    const next = this.#next(cur, now);
    next.alert.status = 'acknowledged';
    next.alert.acknowledgedAt = next.alert.updatedAt;
    next.alert.acknowledgedBy = staff.id;
    next.acknowledgedAtMs = now;
    return { ...this.#save(next, cur.alert.version, 'acknowledged', now), staff, firstAck: true };
  }

  #resolve(
    alertId: string,
    staff: StaffConfig,
    outcome: Outcome,
    note: string | undefined,
    now: number,
    expectedVersion?: number,
  ): AlertChange {
    const cur = this.#visible(alertId, staff, expectedVersion);
    if (cur.alert.status === 'resolved')
      throw new HubError(ErrorCodes.ALERT_RESOLVED, 'the alert is already resolved');
    const next = this.#next(cur, now);
    const firstAck = next.alert.status === 'open';
    if (firstAck) {
      next.alert.acknowledgedAt = next.alert.updatedAt;
      next.alert.acknowledgedBy = staff.id;
      next.acknowledgedAtMs = now;
    }
    next.alert.status = 'resolved';
    next.alert.resolvedAt = next.alert.updatedAt;
    next.alert.resolvedBy = staff.id;
    next.alert.outcome = outcome;
    next.resolvedAtMs = now;
    if (note) next.alert.notes.push({ at: next.alert.updatedAt, by: staff.id, text: note });
    return { ...this.#save(next, cur.alert.version, 'resolved', now), staff, firstAck };
  }

  #addNote(
    alertId: string,
    staff: StaffConfig,
    text: string,
    now: number,
    expectedVersion?: number,
  ): AlertChange {
    const cur = this.#visible(alertId, staff, expectedVersion);
    const next = this.#next(cur, now);
    next.alert.notes.push({ at: next.alert.updatedAt, by: staff.id, text });
    return { ...this.#save(next, cur.alert.version, 'noted', now), staff };
  }

  #assign(
    alertId: string,
    staff: StaffConfig,
    assigneeId: string,
    now: number,
    expectedVersion?: number,
  ): AlertChange {
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
    const next = this.#next(cur, now);
    next.alert.assignedTo = assignee.id;
    return { ...this.#save(next, cur.alert.version, 'assigned', now), staff };
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
