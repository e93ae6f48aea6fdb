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
import type { Journal, JournalRow } from './journal.js';

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
 */
export class Processor {
  #running = false;
  #again = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;

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
  ) {}

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
      this.onRollback();
      const delay = Math.min(30_000, 250 * 2 ** Math.min(this.#failures, 7));
      this.metrics.journalLag.set(this.journal.lastSeq() - this.processedSeq());
      this.log.error({ err, retryInMs: delay, failures: this.#failures }, 'processing journal rows failed; will retry');
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

  #applyBatch(rows: JournalRow[]): ProcessedBatch {
    return this.db.transaction(() => {
      const out: ProcessedBatch = { alertChanges: [], deviceEntries: [] };
      for (const row of rows) {
        const event = this.#toEvent(row);
        if (event) this.#applyEvent(event, out);
        this.meta.set(PROCESSED_KEY, row.seq);
      }
      return out;
    })();
  }

  #toEvent(row: JournalRow): DeviceEvent | null {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(row.payload) as Record<string, unknown>;
    } catch {
      this.log.error({ seq: row.seq }, 'unreadable journal row skipped');
      return null;
    }
    const event: DeviceEvent = { seq: row.seq, deviceId: row.device_id, homeId: row.home_id, at: row.received_at, type: row.type as DeviceEvent['type'] };
    if (row.event_id !== null) event.eventId = row.event_id;
    if (typeof payload.ts === 'string' || typeof payload.ts === 'number') event.deviceTs = payload.ts;
    if (typeof payload.battery === 'number') event.battery = payload.battery;
    if (typeof payload.batteryLow === 'boolean') event.batteryLow = payload.batteryLow;
    if (typeof payload.rssi === 'number') event.rssi = payload.rssi;
    return event;
  }

  #applyEvent(event: DeviceEvent, out: ProcessedBatch): void {
    if (!this.directory.home(event.homeId)) {
      this.log.warn({ seq: event.seq, home: event.homeId }, 'event for a home no longer configured; skipped');
      return;
    }
    this.#updateDevice(event, out);
    out.alertChanges.push(...this.rules.onEvent(event));
  }

  #updateDevice(event: DeviceEvent, out: ProcessedBatch): void {
    const prev = this.devices.get(event.deviceId);
    const next: DeviceState = {
      deviceId: event.deviceId,
      online: event.type !== 'status.offline',
      battery: event.battery ?? prev?.battery ?? null,
      batteryLow: event.batteryLow ?? prev?.batteryLow ?? null,
      rssi: event.rssi ?? prev?.rssi ?? null,
      lastSeen: event.type === 'status.offline' ? (prev?.lastSeen ?? event.at) : event.at,
    };
    this.devices.put(next);
    if (!prev || prev.online !== next.online || prev.battery !== next.battery || prev.batteryLow !== next.batteryLow) {
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
}
