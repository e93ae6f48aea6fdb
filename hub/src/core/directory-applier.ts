import type { HubConfig, StaffConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DeviceRecord, DirectoryOp, DirectoryOpResult, HomeRecord } from '../model/directory.js';
import type { DirectoryLogEntry } from '../model/entries.js';
import type { RulesRuntime } from '../rules/runtime.js';
import { type Directory, directoryDataOf } from '../site/directory.js';
import { checkOps } from '../site/directory-check.js';
import { refusal, type Translate } from '../site/problems.js';
import type { AlertRepo } from '../store/alert-repo.js';
import type { AuditLog } from '../store/audit-log.js';
import type { DeviceStateRepo } from '../store/device-state-repo.js';
import type { DirectoryRepo, Place } from '../store/directory-repo.js';
import type { FeedLog } from '../store/feed-log.js';
import type { HomeErasure } from '../store/home-erasure.js';
import type { HomeRhythmRepo } from '../store/home-rhythm-repo.js';
import type { HomeStateRepo } from '../store/home-state-repo.js';
import type { SessionRepo } from '../store/session-repo.js';
import type { TimerStore } from '../store/timer-store.js';
import type { TransactionalCache } from '../store/unit-of-work.js';
import type { ZigbeeStateRepo } from '../store/zigbee-state-repo.js';
import type { Scheduler } from '../timers/scheduler.js';
import type { Applied } from './applied.js';
import { changedPaths, redactedForAudit, sortedKeys, withoutSecrets } from './directory-redact.js';

export interface DirectoryApplierParts {
  config: Readonly<HubConfig>;
  directory: Directory;
  repo: DirectoryRepo;
  rules: RulesRuntime;
  alerts: AlertRepo;
  feedLog: FeedLog;
  devices: DeviceStateRepo;
  homeStates: HomeStateRepo;
  /** What the rules learned of the residents' quiet spells: erased with the home's history. */
  rhythms: HomeRhythmRepo;
  zigbee: ZigbeeStateRepo;
  timers: TimerStore;
  scheduler: Scheduler;
  audit: AuditLog;
  erasure: HomeErasure;
  /** A removed staff member's sessions end in the entry that removes them. */
  sessions: SessionRepo;
  /** English messages for refusals (the HTTP layer renders each problem in the caller's language). */
  t: Translate;
  log: Logger;
}

/** The actor of the seed from the configuration file: its entries write one audit row, not one per op. */
export const SEED_ACTOR = 'config';

/**
 * The applier's part for `directory` entries: checks the change against the directory as it stands
 * (site/directory-check.ts; a change with problems is refused whole, nothing of it kept), then writes
 * the tables, changes the in-memory directory, keeps the rules' standing timers in step, erases what
 * a removed home or resident leaves behind, and records each op (history and audit trail). The
 * in-memory directory is a cache of this unit of work: a rollback loads it again from the store.
 */
export class DirectoryApplier implements TransactionalCache {
  /** The in-memory directory was changed by the unit of work under way. */
  #dirty = false;

  constructor(private readonly p: DirectoryApplierParts) {}

  apply(position: number, entry: DirectoryLogEntry, out: Applied): DirectoryOpResult[] {
    const { directory, repo } = this.p;
    if (entry.seed) {
      if (repo.seededAt() !== undefined) {
        this.p.log.warn({ seq: position }, 'a second seed of the directory skipped');
        return [];
      }
      this.#dirty = true;
      repo.clear();
      directory.reset({ grids: [], homes: [], devices: [], staff: [] });
      repo.markSeeded(position);
      this.p.audit.append(entry.at, entry.actor, 'directory.seed', 'site', { ops: entry.ops.length });
    }
    const problems = checkOps(directory, entry.ops, {
      unresolvedAlerts: (homeId) => this.p.alerts.unresolvedIn(homeId),
    });
    if (problems.length > 0) throw refusal(problems, this.p.t);
    this.#dirty = true;
    const quiet = entry.actor === SEED_ACTOR;
    return entry.ops.map((op, idx) => {
      const place = { pos: position, idx };
      const r = this.#apply(op, place, entry, out, quiet);
      r.before = sortedKeys(r.before);
      r.after = sortedKeys(r.after);
      if (!quiet) {
        repo.recordChange({
          position,
          index: idx,
          at: entry.at,
          actor: entry.actor,
          op: op.op,
          target: r.result.target,
          homeId: r.homeId,
          before: r.before,
          after: r.after,
        });
        this.p.audit.append(entry.at, entry.actor, `directory.${op.op}`, r.result.target, {
          changed: changedPaths(r.before, r.after),
          before: redactedForAudit(op.op, r.before),
          after: redactedForAudit(op.op, r.after),
        });
      }
      return r.result;
    });
  }

  #apply(
    op: DirectoryOp,
    place: Place,
    entry: DirectoryLogEntry,
    out: Applied,
    quiet: boolean,
  ): { result: DirectoryOpResult; homeId: string | null; before: unknown; after: unknown } {
    const { directory, repo } = this.p;
    const at = entry.at;
    switch (op.op) {
      case 'grid.put': {
        const before = directory.grid(op.grid.id);
        repo.putGrid(op.grid, place);
        directory.putGrid(op.grid);
        return { result: res(op, op.grid.id, !before), homeId: null, before, after: op.grid };
      }
      case 'grid.delete': {
        const before = directory.grid(op.gridId);
        repo.deleteGrid(op.gridId);
        directory.deleteGrid(op.gridId);
        return { result: res(op, op.gridId, false), homeId: null, before, after: undefined };
      }
      case 'home.put': {
        const before = directory.homeRecord(op.home.id);
        const kept = new Set(op.home.residents.map((r) => r.id));
        const removed = (before?.residents ?? []).filter((r) => !kept.has(r.id));
        if (removed.length > 0) this.#eraseHistory(op.home.id, place.pos, at, out);
        repo.putHome(op.home, place, at);
        directory.putHome(op.home);
        if (!quiet) this.p.rules.ensureHome(op.home.id, at);
        // The record of this change keeps nothing of the residents it erased.
        const shown = before && removed.length > 0 ? withoutResidents(before, removed) : before;
        return { result: res(op, op.home.id, !before), homeId: op.home.id, before: shown, after: op.home };
      }
      case 'home.delete': {
        const before = directory.home(op.homeId);
        const devices = (before?.devices ?? []).map((d) => d.id);
        this.#eraseHistory(op.homeId, place.pos, at, out);
        for (const id of devices) {
          this.p.devices.remove(id);
          this.p.zigbee.remove(id);
          repo.deleteDevice(id);
          out.directory.push({ type: 'device.revoked', deviceId: id });
        }
        for (const t of this.p.timers.ofHome(op.homeId)) this.p.scheduler.cancel(t.key);
        this.p.homeStates.remove(op.homeId);
        repo.deleteHome(op.homeId);
        directory.deleteHome(op.homeId);
        return {
          result: res(op, op.homeId, false),
          homeId: null,
          before: before && { id: before.id, grid: before.grid, devices, erased: true },
          after: undefined,
        };
      }
      case 'device.put': {
        const prev = directory.deviceRecord(op.device.id);
        const secretHash = op.secretHash !== undefined ? op.secretHash : (prev?.secretHash ?? null);
        const record: DeviceRecord = {
          ...op.device,
          secretHash,
          secretAt:
            op.secretHash !== undefined ? (op.secretHash === null ? null : at) : (prev?.secretAt ?? null),
        };
        repo.putDevice(record, place, at);
        directory.putDevice(record);
        if (!quiet) this.p.rules.ensureHome(record.homeId, at);
        if (
          prev &&
          (prev.kind !== record.kind ||
            prev.secretHash !== record.secretHash ||
            !same(prev.baseTopic, record.baseTopic))
        )
          out.directory.push({ type: 'device.revoked', deviceId: record.id });
        return {
          result: res(op, record.id, !prev),
          homeId: record.homeId,
          before: prev && withoutSecrets(prev),
          after: withoutSecrets(record),
        };
      }
      case 'device.secret': {
        const prev = directory.deviceRecord(op.deviceId) as DeviceRecord;
        const record: DeviceRecord = { ...prev, secretHash: op.secretHash, secretAt: at };
        repo.putDevice(record, place, at);
        directory.putDevice(record);
        out.directory.push({ type: 'device.revoked', deviceId: record.id });
        return {
          result: res(op, record.id, false),
          homeId: record.homeId,
          before: withoutSecrets(prev),
          after: withoutSecrets(record),
        };
      }
      case 'device.delete': {
        const prev = directory.deviceRecord(op.deviceId) as DeviceRecord;
        repo.deleteDevice(prev.id);
        directory.deleteDevice(prev.id);
        this.p.rules.forgetDevice(prev.homeId, prev.id, this.p.timers.ofHome(prev.homeId), at);
        this.p.devices.remove(prev.id);
        this.p.zigbee.remove(prev.id);
        out.directory.push({ type: 'device.revoked', deviceId: prev.id });
        return {
          result: res(op, prev.id, false),
          homeId: prev.homeId,
          before: withoutSecrets(prev),
          after: undefined,
        };
      }
      case 'staff.put': {
        const prev = directory.staff(op.staff.id);
        const staff = {
          ...op.staff,
          passwordHash: op.passwordHash ?? prev?.passwordHash ?? '',
        } as StaffConfig;
        repo.putStaff(staff, place, at);
        directory.putStaff(staff);
        if (prev && prev.passwordHash !== staff.passwordHash) this.#endSessions(staff.id, out);
        else if (prev && (prev.role !== staff.role || prev.grids.join() !== staff.grids.join()))
          out.directory.push({ type: 'staff.rescoped', staffId: staff.id });
        return {
          result: res(op, staff.id, !prev),
          homeId: null,
          before: prev && withoutSecrets(prev),
          after: withoutSecrets(staff),
        };
      }
      case 'staff.delete': {
        const prev = directory.staff(op.staffId);
        repo.deleteStaff(op.staffId);
        directory.deleteStaff(op.staffId);
        this.#endSessions(op.staffId, out);
        return {
          result: res(op, op.staffId, false),
          homeId: null,
          before: prev && withoutSecrets(prev),
          after: undefined,
        };
      }
    }
  }

  /** Removed, or their password changed: their sessions end, and after the commit their feeds close. */
  #endSessions(staffId: string, out: Applied): void {
    this.p.sessions.deleteOfStaff(staffId);
    out.sessionsEnded.push({ staffId, reason: 'staff_removed' });
  }

  /**
   * Erase what the home's history holds about its residents (as `carehub purge-resident`): alerts,
   * feed entries and change history now; log rows and time series queued (store/home-erasure.ts).
   */
  #eraseHistory(homeId: string, position: number, at: number, out: Applied): void {
    const erased = this.p.alerts.eraseHome(homeId);
    const ids = new Set(erased.map((r) => r.alert.id));
    // Escalations and reminders of erased alerts go with them.
    for (const t of this.p.timers.ofHome(homeId))
      if (t.data.owner === 'alert' && ids.has(String(t.data.alertId))) this.p.scheduler.cancel(t.key);
    this.p.feedLog.eraseHome(homeId);
    // A resident's routine is personal data, and a new resident has their own: learned afresh.
    this.p.rhythms.remove(homeId);
    this.p.repo.eraseChangesOf(homeId);
    const devices = (this.p.directory.home(homeId)?.devices ?? []).map((d) => d.id);
    this.p.erasure.queue(homeId, devices, position, at);
    out.directory.push({ type: 'home.erased', homeId });
  }

  committed(): void {
    this.#dirty = false;
  }

  /** The unit of work rolled back: the in-memory directory is the store's (or the file's, before the seed) again. */
  rolledBack(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.p.directory.reset(
      this.p.repo.seededAt() === undefined ? directoryDataOf(this.p.config) : this.p.repo.loadAll(),
    );
  }
}

function res(op: DirectoryOp, target: string, created: boolean): DirectoryOpResult {
  return { op: op.op, target, created };
}

function same(a: unknown, b: unknown): boolean {
  return a === b;
}

function withoutResidents(home: HomeRecord, removed: ReadonlyArray<{ id: string }>): HomeRecord {
  const gone = new Set(removed.map((r) => r.id));
  return {
    ...home,
    residents: home.residents.map((r) =>
      gone.has(r.id) ? ({ id: r.id, erased: true } as unknown as HomeRecord['residents'][number]) : r,
    ),
  };
}
