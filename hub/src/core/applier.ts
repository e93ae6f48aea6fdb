import type { AlertChange } from '../alerts/alert-change.js';
import type { AlertService } from '../alerts/alert-service.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { HomeModes } from '../homes/home-modes.js';
import type { Logger } from '../log.js';
import type { Decision } from '../model/decision.js';
import type { DeviceState } from '../model/device-state.js';
import type {
  ContactAckLogEntry,
  DeliveryLogEntry,
  DeviceLogEntry,
  LogEntry,
  ModeLogEntry,
  RhythmLogEntry,
  SessionLogEntry,
  StaffLogEntry,
  TimerLogEntry,
} from '../model/entries.js';
import type { ContactAckResult, NotifyLadder } from '../notify/ladder.js';
import { type DeviceEvent, WIRE_ID } from '../protocol/events.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import type { AuditLog } from '../store/audit-log.js';
import type { DeviceStateRepo } from '../store/device-state-repo.js';
import type { FeedLog } from '../store/feed-log.js';
import type { SessionRepo } from '../store/session-repo.js';
import type { Meta } from '../store/sqlite-db.js';
import type { TimerStore } from '../store/timer-store.js';
import type { ZigbeeStateRepo } from '../store/zigbee-state-repo.js';
import { formatIso } from '../time/iso.js';
import type { Scheduler } from '../timers/scheduler.js';
import type { Applied, EntryWork } from './applied.js';
import type { DirectoryApplier } from './directory-applier.js';
import { TimerOwners } from './timer-owners.js';

/** Where a drill continues after a restart (`clock` entries move it). */
export const DRILL_CLOCK_KEY = 'drill_clock_now';

export interface ApplierParts {
  directory: Directory;
  rules: RulesRuntime;
  alerts: AlertService;
  modes: HomeModes;
  devices: DeviceStateRepo;
  feedLog: FeedLog;
  audit: AuditLog;
  scheduler: Scheduler;
  timers: TimerStore;
  zigbee: ZigbeeStateRepo;
  sessions: SessionRepo;
  meta: Meta;
  /** `directory` entries: the site directory's changes (core/directory-applier.ts). */
  directoryChanges: DirectoryApplier;
  /** The notification ladder (docs/notifications.md). */
  notify: NotifyLadder;
  log: Logger;
}

/**
 * The one deterministic applier: (state, entry) → next state, inside the caller's unit of work,
 * with what changed collected in `out` for the effects after the commit. It reads no clock, draws
 * no random number and writes nothing about the node: every time is the entry's, every id and
 * number comes from the log position and the state, so every node and every replay of the same
 * log reaches the same state (`carehub digest`).
 */
export class Applier {
  readonly owners = new TimerOwners();

  constructor(private readonly p: ApplierParts) {
    this.owners.register('rule', (timer, work, out) => {
      for (const d of p.rules.onTimer(timer, work.at, work.late)) this.#decide(d, work, out);
    });
    this.owners.register('alert', (timer, work, out) => {
      const change = p.alerts.onTimer(timer, work.at);
      if (change) this.#changed(change, work, out);
    });
    this.owners.register('mode', (timer, work, out) => {
      const feed = p.modes.onTimer(timer, work.at);
      if (feed) out.feed.push(feed);
    });
    this.owners.register('notify', (timer, work, out) => p.notify.onTimer(timer, work.at, out));
  }

  /** Apply one entry. Returns what its submitter waits for (a staff action's alert change). */
  apply(position: number, entry: LogEntry, out: Applied): unknown {
    const work: EntryWork = { position, at: entry.at, late: entry.kind === 'timer' && entry.late, raised: 0 };
    switch (entry.kind) {
      case 'device':
        return this.#device(position, entry, work, out);
      case 'timer':
        return this.#timer(entry, work, out);
      case 'staff':
        return this.#staff(entry, work, out);
      case 'mode':
        return this.#mode(entry, out);
      case 'rhythm':
        return this.#rhythm(entry);
      case 'audit':
        this.p.audit.append(entry.at, entry.actor, entry.action, entry.target, entry.data);
        return undefined;
      case 'clock':
        this.p.meta.set(DRILL_CLOCK_KEY, entry.at);
        return undefined;
      case 'start':
        for (const d of this.p.rules.start(entry.at)) this.#decide(d, work, out);
        return undefined;
      case 'directory':
        return this.p.directoryChanges.apply(position, entry, out);
      case 'delivery':
        return this.#delivery(entry, out);
      case 'contact-ack':
        return this.#contactAck(entry, out);
      case 'session':
        this.#session(entry, out);
        return undefined;
    }
  }

  #session(entry: SessionLogEntry, out: Applied): void {
    const sessions = this.p.sessions;
    switch (entry.op) {
      case 'open':
        // Sessions past their expiry go with the next login (entry time: the same on every node).
        sessions.purge(entry.at);
        sessions.insert(entry.tokenHash, entry.staffId, entry.at, entry.expiresAt);
        return;
      case 'close':
        sessions.delete(entry.tokenHash);
        out.sessionsEnded.push({ sessionId: entry.tokenHash, reason: 'logout' });
        return;
      case 'close-staff':
        sessions.deleteOfStaff(entry.staffId);
        out.sessionsEnded.push({ staffId: entry.staffId, reason: 'staff_removed' });
        return;
    }
  }

  #delivery(entry: DeliveryLogEntry, out: Applied): void {
    this.p.notify.onDelivery(entry, out);
  }

  #contactAck(entry: ContactAckLogEntry, out: Applied): ContactAckResult {
    return this.p.notify.onContactAck(entry, out);
  }

  /** An alert changed: to the feed and the effects, and to the notification ladder. */
  #changed(change: AlertChange, work: EntryWork, out: Applied): void {
    out.alertChanges.push(change);
    this.p.notify.onAlertChange(change, work.at);
  }

  #device(position: number, entry: DeviceLogEntry, work: EntryWork, out: Applied): void {
    const fields = fieldsOf(position, entry, this.p.log);
    if (!fields) return;
    // A row made from a Zigbee2MQTT report carries what the hub keeps of the device's last report.
    const memory = fields.zigbee;
    if (memory && typeof memory === 'object')
      this.p.zigbee.put(entry.deviceId, JSON.stringify(memory), position);
    const event = toDeviceEvent(position, entry, fields);
    if (!this.p.directory.home(event.homeId)) {
      this.p.log.warn(
        { seq: position, home: event.homeId },
        'event for a home no longer configured; skipped',
      );
      return;
    }
    if (!this.p.directory.device(event.deviceId)) {
      // Sent before the device was retired and applied after: nothing of it is kept.
      this.p.log.debug(
        { seq: position, device: event.deviceId },
        'event of a device no longer configured; skipped',
      );
      return;
    }
    this.#updateDevice(event, out);
    for (const d of this.p.rules.onEvent(event)) this.#decide(d, work, out);
  }

  #timer(entry: TimerLogEntry, work: EntryWork, out: Applied): void {
    const row = this.p.timers.get(entry.key);
    // Cancelled or moved since it was fired: nothing to do.
    if (!row || row.dueAt !== entry.dueAt) return;
    if (!this.owners.fire(row, work, out)) {
      this.p.log.warn({ timer: row.key, owner: row.data.owner }, 'timer of an unknown owner dropped');
      this.p.scheduler.cancel(row.key);
    }
  }

  #staff(entry: StaffLogEntry, work: EntryWork, out: Applied): AlertChange | null {
    const staff = this.#staffMember(entry.staffId);
    const change = this.p.alerts.act(staff, entry.action, work.at);
    if (change) {
      const data: Record<string, unknown> = {
        version: change.record.alert.version,
        status: change.record.alert.status,
      };
      if (entry.action.type === 'resolve') data.outcome = entry.action.outcome;
      if (entry.action.type === 'assign') data.assignee = entry.action.staffId;
      this.p.audit.append(work.at, staff.id, `alert.${entry.action.type}`, change.record.alert.id, data);
      this.#changed(change, work, out);
    }
    return change;
  }

  #mode(entry: ModeLogEntry, out: Applied): void {
    const staff = this.#staffMember(entry.staffId);
    out.feed.push(this.p.modes.set(staff, entry.homeId, entry.mode, entry.until, entry.at));
    this.p.audit.append(entry.at, staff.id, 'home.mode', entry.homeId, {
      mode: entry.mode,
      until: entry.until,
    });
  }

  #rhythm(entry: RhythmLogEntry): void {
    const staff = this.#staffMember(entry.staffId);
    if (!this.p.directory.home(entry.homeId) || !this.p.directory.canSee(staff, entry.homeId))
      throw new HubError(ErrorCodes.NOT_FOUND, `no home ${entry.homeId}`);
    const change = entry.change;
    if (
      change.type === 'override' &&
      !(Number.isFinite(change.askAfterHours) && change.askAfterHours >= 1 && change.askAfterHours <= 168)
    )
      throw new HubError(ErrorCodes.BAD_REQUEST, 'askAfterHours must be between 1 and 168');
    this.p.rules.setRhythm(entry.homeId, change, staff.id, entry.at);
    this.p.audit.append(entry.at, staff.id, 'home.rhythm', entry.homeId, { ...change });
  }

  #staffMember(id: string) {
    const staff = this.p.directory.staff(id);
    if (!staff) throw new HubError(ErrorCodes.UNAUTHENTICATED, `staff member ${id} no longer exists`);
    return staff;
  }

  #decide(d: Decision, work: EntryWork, out: Applied): void {
    if (d.type === 'command') {
      // Only to devices still configured for that home (a device removed since is not told).
      for (const deviceId of d.deviceIds)
        if (this.p.directory.device(deviceId)?.home.id === d.homeId)
          out.commands.push({ deviceId, message: d.message });
      return;
    }
    const change = this.p.alerts.decide(d, work);
    if (change) this.#changed(change, work, out);
  }

  #updateDevice(event: DeviceEvent, out: Applied): void {
    const devices = this.p.devices;
    const prev = devices.get(event.deviceId);
    const online = event.type !== 'status.offline';
    const battery = event.battery ?? prev?.battery ?? null;
    const batteryLow = event.batteryLow ?? prev?.batteryLow ?? null;
    const lastSeen = online ? event.at : (prev?.lastSeen ?? event.at);
    if (prev && prev.online === online && prev.battery === battery && prev.batteryLow === batteryLow) {
      // Only lastSeen and rssi moved (a heartbeat): written behind (DeviceStateRepo). Updated in place,
      // so a heartbeat leaves no object behind to outlive the young generation (a rollback drops
      // the whole cache, see DeviceStateRepo.forget).
      prev.lastSeen = lastSeen;
      if (event.rssi !== undefined) prev.rssi = event.rssi;
      devices.put(prev, 'soft');
      return;
    }
    const next: DeviceState = {
      deviceId: event.deviceId,
      online,
      battery,
      batteryLow,
      rssi: event.rssi ?? prev?.rssi ?? null,
      lastSeen,
    };
    devices.put(next, 'durable');
    out.feed.push(
      this.p.feedLog.append(event.at, 'device', event.homeId, {
        type: 'device',
        device: {
          id: next.deviceId,
          homeId: event.homeId,
          online: next.online,
          battery: next.battery,
          lastSeen: formatIso(next.lastSeen, this.p.directory.timezoneOf(event.homeId)),
        },
      }),
    );
  }
}

/** A device entry's payload fields; null (logged) when its stored payload is unreadable. */
function fieldsOf(
  position: number,
  entry: DeviceLogEntry,
  log: Logger,
): Readonly<Record<string, unknown>> | null {
  if (entry.decoded) return entry.decoded;
  try {
    return JSON.parse(entry.payload) as Record<string, unknown>;
  } catch {
    log.error({ seq: position }, 'unreadable journal row skipped');
    return null;
  }
}

/** The rules' view of a device entry. */
function toDeviceEvent(
  position: number,
  entry: DeviceLogEntry,
  fields: Readonly<Record<string, unknown>>,
): DeviceEvent {
  const event: DeviceEvent = {
    seq: position,
    deviceId: entry.deviceId,
    homeId: entry.homeId,
    at: entry.at,
    type: entry.type as DeviceEvent['type'],
  };
  if (entry.eventId !== undefined) event.eventId = entry.eventId;
  if (typeof fields.ts === 'string' || typeof fields.ts === 'number') event.deviceTs = fields.ts;
  if (typeof fields.battery === 'number') event.battery = fields.battery;
  if (typeof fields.batteryLow === 'boolean') event.batteryLow = fields.batteryLow;
  if (typeof fields.rssi === 'number') event.rssi = fields.rssi;
  // A check-in's request id is kept only when well formed; the check-in counts either way.
  if (typeof fields.requestId === 'string' && WIRE_ID.test(fields.requestId))
    event.requestId = fields.requestId;
  return event;
}
