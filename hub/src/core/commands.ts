import type { AlertChange } from '../alerts/alert-change.js';
import type { Clock } from '../clock/clock.js';
import type { StaffConfig } from '../config/schema.js';
import type { DirectoryOp, DirectoryOpResult } from '../model/directory.js';
import type { DirectoryLogEntry, StaffAction } from '../model/entries.js';
import type { RhythmChange } from '../model/home-rhythm.js';
import type { HomeMode } from '../model/home-state.js';
import type { ContactAckResult } from '../notify/ladder.js';
import type { SubmittedEntry } from './state-machine.js';

/**
 * What the edges (HTTP API, staff feed, sessions) ask of the core, as log entries stamped with this
 * node's clock. Each resolves once its entry is applied, with the applier's answer or its coded
 * error (then nothing of it was kept).
 */
export class Commands {
  constructor(
    private readonly submit: (entry: SubmittedEntry) => Promise<unknown>,
    private readonly clock: Clock,
    /** Several entries that stand or fall together (state-machine.ts submitAllNow). */
    private readonly submitAll: (entries: readonly SubmittedEntry[]) => Promise<unknown[]> = async (
      entries,
    ) => Promise.all(entries.map((e) => submit(e))),
  ) {}

  /**
   * A change of the site directory by `actor` (an admin's id): refused whole, with every problem, when
   * any op is wrong. `homeId`: the one home all ops are about (its log row is erased with the home).
   */
  async directory(actor: string, ops: DirectoryOp[], homeId?: string): Promise<DirectoryOpResult[]> {
    const entry: DirectoryLogEntry = { kind: 'directory', at: this.clock.now(), actor, ops };
    if (homeId !== undefined) entry.homeId = homeId;
    return (await this.submit(entry)) as DirectoryOpResult[];
  }

  /** Directory changes that stand or fall together (an import: one entry per home). */
  async directoryBatch(
    actor: string,
    changes: ReadonlyArray<{ ops: DirectoryOp[]; homeId?: string | undefined }>,
  ): Promise<DirectoryOpResult[][]> {
    const at = this.clock.now();
    const entries = changes.map((c) => {
      const entry: DirectoryLogEntry = { kind: 'directory', at, actor, ops: c.ops };
      if (c.homeId !== undefined) entry.homeId = c.homeId;
      return entry;
    });
    return (await this.submitAll(entries)) as DirectoryOpResult[][];
  }

  /** An alert action; null when it changed nothing (a repeated ack by the same person). */
  async staffAction(staff: StaffConfig, action: StaffAction): Promise<AlertChange | null> {
    return (await this.submit({
      kind: 'staff',
      at: this.clock.now(),
      staffId: staff.id,
      action,
    })) as AlertChange | null;
  }

  async setMode(staff: StaffConfig, homeId: string, mode: HomeMode, until: number | null): Promise<void> {
    await this.submit({ kind: 'mode', at: this.clock.now(), staffId: staff.id, homeId, mode, until });
  }

  /** What the hub uses of a home's learned rhythm: an override, its removal, or learning afresh. */
  async setRhythm(staff: StaffConfig, homeId: string, change: RhythmChange): Promise<void> {
    await this.submit({ kind: 'rhythm', at: this.clock.now(), staffId: staff.id, homeId, change });
  }

  /** A row of the audit trail that no other entry writes (a read of residents' data, a login, a mute). */
  async audit(
    actor: string,
    action: string,
    target: string,
    data: Record<string, unknown> = {},
  ): Promise<void> {
    await this.submit({ kind: 'audit', at: this.clock.now(), actor, action, target, data });
  }

  /** A contact's "I am going" from the link in their message (the token was checked by the caller). */
  async contactAck(alertId: string, contact: number): Promise<ContactAckResult> {
    return (await this.submit({
      kind: 'contact-ack',
      at: this.clock.now(),
      alertId,
      contact,
    })) as ContactAckResult;
  }
}
