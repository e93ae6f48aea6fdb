import type { Clock } from '../clock/clock.js';
import type { StaffConfig } from '../config/schema.js';
import type { Outcome } from '../model/alert.js';
import type { AuditLog } from '../store/audit-log.js';
import { rollingBack } from '../store/rolling-back.js';
import type { Db } from '../store/sqlite-db.js';
import type { AlertChange, AlertService } from './alert-service.js';

export type StaffAction =
  | { type: 'ack'; alertId: string; version?: number | undefined }
  | {
      type: 'resolve';
      alertId: string;
      outcome: Outcome;
      note?: string | undefined;
      version?: number | undefined;
    }
  | { type: 'note'; alertId: string; text: string; version?: number | undefined }
  | { type: 'assign'; alertId: string; staffId: string; version?: number | undefined };

/**
 * What duty staff do to alerts, from the HTTP API and the feed alike: the change and its audit row
 * in one transaction, then fan-out. Returns the alert as it now stands.
 */
export class StaffActions {
  constructor(
    private readonly db: Db,
    private readonly alerts: AlertService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly dispatch: (changes: AlertChange[]) => void,
    /** The transaction rolled back: caches it changed (timers, home state) must be read again. */
    private readonly rolledBack: () => void,
  ) {}

  perform(staff: StaffConfig, action: StaffAction): AlertChange | null {
    const change = rollingBack(this.rolledBack, () => this.#perform(staff, action));
    if (change) this.dispatch([change]);
    return change;
  }

  #perform(staff: StaffConfig, action: StaffAction): AlertChange | null {
    return this.db.transaction(() => {
      const c = this.#apply(staff, action);
      if (c) {
        const data: Record<string, unknown> = {
          version: c.record.alert.version,
          status: c.record.alert.status,
        };
        if (action.type === 'resolve') data.outcome = action.outcome;
        if (action.type === 'assign') data.assignee = action.staffId;
        this.audit.append(this.clock.now(), staff.id, `alert.${action.type}`, c.record.alert.id, data);
      }
      return c;
    })();
  }

  #apply(staff: StaffConfig, a: StaffAction): AlertChange | null {
    switch (a.type) {
      case 'ack':
        return this.alerts.acknowledge(a.alertId, staff, a.version);
      case 'resolve':
        return this.alerts.resolve(a.alertId, staff, a.outcome, a.note, a.version);
      case 'note':
        return this.alerts.addNote(a.alertId, staff, a.text, a.version);
      case 'assign':
        return this.alerts.assign(a.alertId, staff, a.staffId, a.version);
    }
  }
}
