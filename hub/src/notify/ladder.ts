import type { AlertChange } from '../alerts/alert-change.js';
import type { AlertService } from '../alerts/alert-service.js';
import { durationMs } from '../config/notify-schema.js';
import type { HomeConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ContactAckLogEntry, DeliveryLogEntry } from '../model/entries.js';
import { type NotifyChannel, type NotifyStatus, notifyRowId } from '../model/notify.js';
import type { TimerRow } from '../model/timer.js';
import type { Directory } from '../site/directory.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { AuditLog } from '../store/audit-log.js';
import type { NotifyRepo } from '../store/notify-repo.js';
import { localParts } from '../time/iso.js';
import type { Scheduler } from '../timers/scheduler.js';
import {
  channelProblem,
  ladderFor,
  quietRulesFor,
  quietUntil,
  reachableChannels,
  stepApplies,
} from './plan.js';

/** Ladders have at most this many steps (config/notify-schema.ts). */
const MAX_STEPS = 10;
const timerKey = (alertId: string, step: number) => `notify:${alertId}:${step}`;

/** What a contact's "I am going" did. */
export type ContactAckResult = 'going' | 'used' | 'closed' | 'unknown';

export const CHANNEL_NAMES: Record<NotifyChannel, string> = {
  email: 'email',
  webhook: 'webhook',
  sms: 'SMS',
  wecom: 'WeCom',
  dingtalk: 'DingTalk',
};

export interface LadderParts {
  directory: Directory;
  repo: NotifyRepo;
  alertRepo: AlertRepo;
  alerts: AlertService;
  scheduler: Scheduler;
  audit: AuditLog;
  log: Logger;
}

/** Where the ladder puts what it changed: alert changes for the feed, and a word for the sender. */
export interface LadderOut {
  alertChanges: AlertChange[];
  notify: boolean;
}

/**
 * The notification ladder as state (docs/notifications.md), run by the applier: a raised alert
 * sets one stored timer per step; a step that falls due writes one outbox row per (contact,
 * channel); staff acknowledgement, a resolve or a contact going stops it (timers and pending rows
 * cancelled); `delivery` entries record each attempt. Deterministic: every time is the entry's,
 * every id comes from the alert, the step, the contact and the channel.
 */
export class NotifyLadder {
  constructor(private readonly p: LadderParts) {}

  /** An alert changed (raised, acknowledged, resolved …): plan or stop its ladder. */
  onAlertChange(change: AlertChange, at: number): void {
    if (!this.p.directory.config.notifications) return;
    const rec = change.record;
    if (change.cause === 'raised') {
      const home = this.p.directory.home(rec.alert.homeId);
      if (!home) return;
      ladderFor(this.p.directory.config.notifications, home).forEach((step, i) => {
        if (!stepApplies(step, rec.alert.kind)) return;
        this.p.scheduler.set({
          key: timerKey(rec.alert.id, i + 1),
          homeId: home.id,
          dueAt: rec.raisedAtMs + durationMs(step.after),
          data: { owner: 'notify', alertId: rec.alert.id, step: i + 1 },
        });
      });
    } else if (change.cause === 'acknowledged' || change.cause === 'resolved') {
      this.#stop(rec.alert.id, at);
    }
  }

  /** A step of a ladder fell due (timer owner `notify`). */
  onTimer(timer: TimerRow, at: number, out: LadderOut): void {
    this.p.scheduler.cancel(timer.key);
    const n = this.p.directory.config.notifications;
    const alertId = String(timer.data.alertId);
    const stepNo = Number(timer.data.step);
    const rec = this.p.alertRepo.get(alertId);
    const home = rec && this.p.directory.home(rec.alert.homeId);
    if (!n || !rec || !home || rec.alert.status !== 'open') return;
    if (this.p.repo.going(alertId).length > 0) return;
    const step = ladderFor(n, home)[stepNo - 1];
    if (!step) return;
    const tz = this.p.directory.timezoneOf(home.id);
    const until = quietUntil(quietRulesFor(n, home), rec.alert.kind, at, tz);
    if (until !== undefined) {
      this.p.scheduler.set({ ...timer, dueAt: until });
      const p = localParts(until, tz);
      const time = `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
      this.#note(out, alertId, 'note.notify_quiet', { time }, at);
      return;
    }
    let rows = 0;
    home.contacts.forEach((contact, index) => {
      if (!step.relations.includes(contact.relation)) return;
      const channels = reachableChannels(contact, n, home);
      if (channels.length === 0) {
        this.#note(
          out,
          alertId,
          'note.notify_unreachable',
          { name: contact.name, why: why(contact, home, n) },
          at,
        );
        return;
      }
      for (const channel of channels) {
        const added = this.p.repo.insert({
          id: notifyRowId(alertId, stepNo, index, channel),
          alertId,
          homeId: home.id,
          step: stepNo,
          contact: index,
          channel,
          status: 'pending',
          createdAt: at,
          attempts: 0,
          nextAt: at,
          updatedAt: at,
          lastError: null,
        });
        if (added) rows++;
      }
    });
    this.p.audit.append(at, 'notify', 'notify.step', alertId, { step: stepNo, rows });
    if (rows > 0) out.notify = true;
  }

  /** The sender's record of one attempt at an outbox row. */
  onDelivery(entry: DeliveryLogEntry, out: LadderOut): void {
    const row = this.p.repo.get(entry.rowId);
    if (!row) {
      this.p.log.warn({ row: entry.rowId }, 'delivery for an unknown outbox row; ignored');
      return;
    }
    // A repeat of an attempt already recorded (the same entry submitted twice) changes nothing.
    if (entry.attempt !== row.attempts + 1) return;
    let status: NotifyStatus = row.status;
    if (entry.result === 'sent') status = 'sent';
    else if (entry.result === 'failed' && row.status === 'pending') status = 'failed';
    const nextAt = entry.result === 'retry' ? (entry.retryAt ?? entry.at) : row.nextAt;
    const detail = entry.detail.slice(0, 300);
    this.p.repo.recordAttempt(
      row,
      { attempt: entry.attempt, at: entry.at, result: entry.result, detail },
      status,
      nextAt,
    );
    this.p.audit.append(entry.at, 'notify', `notify.${entry.result}`, row.alertId, {
      row: row.id,
      step: row.step,
      contact: row.contact,
      channel: row.channel,
      attempt: entry.attempt,
      detail,
    });
    const home = this.p.directory.home(row.homeId);
    const name = home?.contacts[row.contact]?.name ?? `#${row.contact + 1}`;
    // The channel's name in each language of the note.
    const channel = { channel: `channel.${row.channel}` };
    if (entry.result === 'sent')
      this.#note(out, row.alertId, 'note.notify_sent', { name }, entry.at, channel);
    if (entry.result === 'failed')
      this.#note(out, row.alertId, 'note.notify_failed', { name, detail }, entry.at, channel);
    out.notify = true;
  }

  /** A contact said "I am going" through their link: the ladder stops, the alert gets a note. */
  onContactAck(entry: ContactAckLogEntry, out: LadderOut): ContactAckResult {
    const rec = this.p.alertRepo.get(entry.alertId);
    const home = rec && this.p.directory.home(rec.alert.homeId);
    const contact = home?.contacts[entry.contact];
    if (!rec || !home || !contact) return 'unknown';
    if (rec.alert.status === 'resolved') return 'closed';
    if (!this.p.repo.addGoing(entry.alertId, entry.contact, entry.at)) return 'used';
    this.#stop(entry.alertId, entry.at);
    this.p.audit.append(entry.at, `contact:${home.id}:${entry.contact}`, 'notify.going', entry.alertId, {
      contact: entry.contact,
    });
    this.#note(out, entry.alertId, 'note.contact_going', { name: contact.name }, entry.at);
    return 'going';
  }

  #stop(alertId: string, at: number): void {
    for (let step = 1; step <= MAX_STEPS; step++) this.p.scheduler.cancel(timerKey(alertId, step));
    this.p.repo.cancelPending(alertId, at);
  }

  #note(
    out: LadderOut,
    alertId: string,
    key: string,
    params: Record<string, string>,
    at: number,
    keyParams: Record<string, string> = {},
  ): void {
    const change = this.p.alerts.annotate(alertId, key, params, at, keyParams);
    if (change) out.alertChanges.push(change);
  }
}

function why(
  contact: HomeConfig['contacts'][number],
  home: HomeConfig,
  n: NonNullable<Directory['config']['notifications']>,
): string {
  if (contact.notify.length === 0) return 'no channel listed';
  return contact.notify.map((c) => `${CHANNEL_NAMES[c]}: ${channelProblem(c, contact, n, home)}`).join('; ');
}
