import type { AlertChange } from '../alerts/alert-service.js';
import type { FeedEntry, FeedLog } from '../feed/feed-log.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { DeviceEvent } from '../protocol/events.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { Directory } from '../site/directory.js';
import type { DeviceState, DeviceStateRepo } from '../store/device-state-repo.js';
import type { Db, Meta } from '../store/sqlite-db.js';
import { formatIso } from '../time/iso.js';
import type { CommitHook, CommittedRow, Journal, JournalRow } from './journal.js';

const PROCESSED_KEY = 'processed_seq';
const BATCH = 500;

export interface ProcessedBatch {
  alertChanges: AlertChange[];
  deviceEntries: FeedEntry[];
}

/**
 * Journal → rules → alerts. Each batch of journal rows is applied in one transaction together with
 * the `processed_seq` marker, so after a crash every accepted event is applied exactly once: the
 * rows after the marker are simply processed again at start.
 *
 * Fresh rows are applied inside the journal's own commit (a savepoint in the same transaction), so
 * one fsync covers the rows and their effects; the changes are dispatched by the `drain()` that
 * follows the commit. Rows that could not be applied there (a backlog, a failure) are read back from
 * the journal by `drain()`, as before.
 */
export class Processor implements CommitHook {
  #running = false;
  #again = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Applied inside a journal commit, waiting for that commit to be dispatched. */
  #committed: ProcessedBatch[] = [];

  constructor(
    private readonly db: Db,
    private readonly meta: Meta,
    private readonly journal: Journal,
    private readonly directory: Directory,
    private readonly rules: RulesRuntime,
    private readonly devices: DeviceStateRepo,
    private readonly feedLog: FeedLog,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly dispatch: (batch: ProcessedBatch) => void,
    private readonly onRollback: () => void = () => {},
    /** Where a Zigbee2MQTT device's memory goes (rows made from a gateway report carry it). */
    private readonly zigbee?: { put(deviceId: string, memory: string, seq: number): void; forget(): void },
  ) {
    journal.setCommitHook(this);
  }

  processedSeq(): number {
    return this.meta.getNumber(PROCESSED_KEY, 0);
  }

  /** Process everything the journal holds beyond the marker. Re-entrant calls coalesce. */
  drain(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      this.#dispatchCommitted();
      do {
        this.#again = false;
        for (;;) {
          const rows = this.journal.readAfter(this.processedSeq(), BATCH);
          if (rows.length === 0) break;
          const batch = this.#applyBatch(rows);
          this.#failures = 0;
          this.dispatch(batch);
        }
      } while (this.#again);
      this.metrics.journalLag.set(0);
    } catch (err) {
      // Nothing is lost: the rows stay in the journal beyond the marker. Retry with backoff; the
      // rules' cached home state may hold changes of the rolled-back batch, so drop it.
      this.#failures++;
      this.#forget();
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.#failures, 7));
      this.metrics.journalLag.set(this.journal.lastSeq() - this.processedSeq());
      this.log.error(
        { err, retryInMs: delay, failures: this.#failures },
        'processing journal rows failed; will retry',
      );
      this.#retry ??= setTimeout(() => {
        this.#retry = undefined;
        this.drain();
      }, delay);
      this.#retry.unref();
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /**
   * CommitHook: apply the rows a journal commit is adding, inside that commit. Only when they are
   * next in line (nothing older is waiting) and no drain is running; otherwise drain() takes them.
   */
  inTransaction(rows: readonly CommittedRow[]): void {
    const first = rows[0];
    if (this.#running || this.#retry || !first) return;
    if (this.journal.readAfter(this.processedSeq(), 1)[0]?.seq !== first.seq) return;
    const out: ProcessedBatch = { alertChanges: [], deviceEntries: [] };
    for (const { seq, entry } of rows) {
      const event: DeviceEvent = {
        seq,
        deviceId: entry.deviceId,
        homeId: entry.homeId,
        at: entry.receivedAt,
        type: entry.type as DeviceEvent['type'],
      };
      if (entry.eventId !== undefined) event.eventId = entry.eventId;
      const fields = entry.event ?? this.#parse(seq, entry.payload);
      if (fields) {
        this.#remember(entry.deviceId, seq, fields);
        copyFields(fields, event);
        this.#applyEvent(event, out);
      }
    }
    this.meta.set(PROCESSED_KEY, (rows[rows.length - 1] as CommittedRow).seq);
    this.#committed.push(out);
  }

  /** CommitHook: the commit (or our part of it) was rolled back. */
  rolledBack(): void {
    this.#committed = [];
    this.#forget();
  }

  #dispatchCommitted(): void {
    const batches = this.#committed;
    this.#committed = [];
    for (const b of batches) {
      this.#failures = 0;
      this.dispatch(b);
    }
  }

  #forget(): void {
    this.devices.forget();
    this.zigbee?.forget();
    this.onRollback();
  }

  #applyBatch(rows: JournalRow[]): ProcessedBatch {
    return this.db.transaction(() => {
      const out: ProcessedBatch = { alertChanges: [], deviceEntries: [] };
      for (const row of rows) {
        const payload = this.#parse(row.seq, row.payload);
        if (!payload) continue;
        this.#remember(row.device_id, row.seq, payload);
        this.#applyEvent(this.#toEvent(row, payload), out);
      }
      // One marker per batch: it commits (or rolls back) with the whole batch.
      this.meta.set(PROCESSED_KEY, (rows[rows.length - 1] as JournalRow).seq);
      return out;
    })();
  }

  #parse(seq: number, payload: string): Record<string, unknown> | null {
    try {
      return JSON.parse(payload) as Record<string, unknown>;
    } catch {
      this.log.error({ seq }, 'unreadable journal row skipped');
      return null;
    }
  }

  /** A row made from a Zigbee2MQTT report: keep the device's memory, in this transaction. */
  #remember(deviceId: string, seq: number, fields: Readonly<Record<string, unknown>>): void {
    const memory = fields.zigbee;
    if (this.zigbee && memory && typeof memory === 'object')
      this.zigbee.put(deviceId, JSON.stringify(memory), seq);
  }

  #toEvent(row: JournalRow, payload: Readonly<Record<string, unknown>>): DeviceEvent {
    const event: DeviceEvent = {
      seq: row.seq,
      deviceId: row.device_id,
      homeId: row.home_id,
      at: row.received_at,
      type: row.type as DeviceEvent['type'],
    };
    if (row.event_id !== null) event.eventId = row.event_id;
    copyFields(payload, event);
    return event;
  }

  #applyEvent(event: DeviceEvent, out: ProcessedBatch): void {
    if (!this.directory.home(event.homeId)) {
      this.log.warn({ seq: event.seq, home: event.homeId }, 'event for a home no longer configured; skipped');
      return;
    }
    this.#updateDevice(event, out);
    const changes = this.rules.onEvent(event);
    for (const c of changes) out.alertChanges.push(c);
  }

  #updateDevice(event: DeviceEvent, out: ProcessedBatch): void {
    const prev = this.devices.get(event.deviceId);
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
      this.devices.put(prev, 'soft');
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
    this.devices.put(next, 'durable');
    out.deviceEntries.push(
      this.feedLog.append(event.at, 'device', event.homeId, {
        type: 'device',
        device: {
          id: next.deviceId,
          homeId: event.homeId,
          online: next.online,
          battery: next.battery,
          lastSeen: formatIso(next.lastSeen, this.directory.timezoneOf(event.homeId)),
        },
      }),
    );
  }
}

/** The optional fields of a stored event that the rules read. */
function copyFields(payload: Readonly<Record<string, unknown>>, event: DeviceEvent): void {
  if (typeof payload.ts === 'string' || typeof payload.ts === 'number') event.deviceTs = payload.ts;
  if (typeof payload.battery === 'number') event.battery = payload.battery;
  if (typeof payload.batteryLow === 'boolean') event.batteryLow = payload.batteryLow;
  if (typeof payload.rssi === 'number') event.rssi = payload.rssi;
}
