import type { Logger } from '../log.js';
import type { DeviceLogEntry } from '../model/entries.js';
import type { RulesRuntime } from '../rules/runtime.js';
import type { DeviceStateRepo } from '../store/device-state-repo.js';
import type { HomeStateRepo } from '../store/home-state-repo.js';
import type { Journal } from '../store/journal.js';
import { type Db, type Meta, withoutFsync } from '../store/sqlite-db.js';
import type { TransactionalCache } from '../store/unit-of-work.js';

/** Every entry up to here has its soft state (last seen, rssi) on disk. */
const FLUSHED_KEY = 'soft_flushed_seq';
const SLICE = 500;
const RECOVER_PAGE = 5000;

/**
 * State that moves with every heartbeat (device and home `lastSeen`, `rssi`) is written behind:
 * every `intervalMs`, in slices of SLICE rows (one transaction and one turn each, so ingest never
 * stops for a whole site's worth of upserts; those commits skip their own fsync, the next journal
 * commit's covers them), and at stop. A pass that leaves nothing unwritten records the position it
 * covers; after a crash, or a rolled-back unit of work that dropped the caches, `recover()` applies
 * the soft part of the entries since then again, so the state is exactly what the log says.
 */
export class SoftState implements TransactionalCache {
  #timer: NodeJS.Timeout | undefined;
  #flushing = false;
  #stopped = false;

  constructor(
    private readonly db: Db,
    private readonly meta: Meta,
    private readonly journal: Journal,
    private readonly devices: DeviceStateRepo,
    private readonly homes: HomeStateRepo,
    private readonly rules: RulesRuntime,
    private readonly processed: () => number,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.flush(), this.intervalMs).unref();
  }

  /** Stop the interval and write everything now. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.flush(Number.POSITIVE_INFINITY);
  }

  /** Write up to `slice` dirty homes and devices; go on in later turns until nothing is left. */
  flush(slice = SLICE): void {
    if (this.#flushing && slice !== Number.POSITIVE_INFINITY) return;
    if (this.journal.held && slice !== Number.POSITIVE_INFINITY) {
      // A checkpoint is about to restart the WAL: a write now would spoil it (store/checkpointer.ts).
      this.#flushing = true;
      setTimeout(() => {
        this.#flushing = false;
        if (!this.#stopped) this.flush();
      }, 5).unref();
      return;
    }
    let more = false;
    withoutFsync(this.db, () => {
      try {
        more = this.devices.flushSoft(slice) > 0;
      } catch (err) {
        this.log.error({ err }, 'writing device last-seen state failed; will retry');
      }
      try {
        more = this.rules.flush(slice) >= slice || more;
      } catch (err) {
        this.log.error({ err }, 'writing home state (last seen) failed; will retry');
      }
      if (!more && this.devices.dirtyCount() === 0 && this.homes.dirtyCount() === 0 && !this.db.inTransaction)
        this.meta.set(FLUSHED_KEY, this.processed());
    });
    this.#flushing = more && !this.#stopped;
    if (this.#flushing)
      setImmediate(() => {
        this.#flushing = false;
        if (!this.#stopped) this.flush();
      });
  }

  /**
   * Apply the soft part (last seen, rssi) of the entries after the last complete flush again: at
   * start after a crash, and after a rollback dropped the caches. Nothing is written; the next
   * flush writes it. Returns the entries read.
   */
  recover(): number {
    const to = this.processed();
    const stored = this.meta.get(FLUSHED_KEY);
    // A data dir from before this mark: its last stop wrote everything, or a crash lost it already.
    if (stored === undefined) this.meta.set(FLUSHED_KEY, to);
    let from = stored === undefined ? to : Number(stored);
    let read = 0;
    while (from < to) {
      const page = this.journal.readAfter(from, RECOVER_PAGE);
      if (page.length === 0) break;
      for (const { position, entry } of page) {
        if (position > to) return read;
        from = position;
        read++;
        if (entry.kind === 'device' && entry.type !== 'status.offline') this.#seen(entry);
      }
    }
    return read;
  }

  /** TransactionalCache: registered after the repositories, so their caches are dropped first. */
  rolledBack(): void {
    this.recover();
  }

  #seen(entry: DeviceLogEntry): void {
    const device = this.devices.get(entry.deviceId);
    if (device) {
      device.lastSeen = entry.at;
      const rssi = rssiOf(entry.payload);
      if (rssi !== undefined) device.rssi = rssi;
      this.devices.put(device, 'soft');
    }
    this.homes.touch(entry.homeId, entry.deviceId, entry.at);
  }
}

function rssiOf(payload: string): number | undefined {
  if (!payload.includes('"rssi"')) return undefined;
  try {
    const rssi = (JSON.parse(payload) as { rssi?: unknown }).rssi;
    return typeof rssi === 'number' ? rssi : undefined;
  } catch {
    return undefined;
  }
}
