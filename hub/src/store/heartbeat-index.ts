/**
 * Heartbeats are most of a site's traffic and tell the rules nothing but "still there". Indexing
 * each one by device (the duplicate check and device history) made every heartbeat a random-page
 * write in two B-trees: ~25 CPU-µs and ~19 KB written per event once the journal held a few
 * hundred thousand rows, against ~3 µs and 0.5 KB without. So only one heartbeat per device per
 * `SAMPLE_MS` goes into those indexes (enough for battery and signal history), and duplicate
 * heartbeats are recognised here, in memory, from each device's last few.
 *
 * What that gives up: a heartbeat redelivered across a hub restart, or after `KEEP` newer ones, is
 * stored twice. A heartbeat raises nothing and only moves "last seen", so storing it twice changes
 * no alert. Every other event type keeps the durable duplicate check of the unique index.
 */
const SAMPLE_MS = 10 * 60_000;
const KEEP = 4;

interface Recent {
  /** Event ids, or `mid:<packet id>:<payload length>:<payload hash>` for one without an id; newest last. */
  keys: string[];
  indexedAt: number;
}

export class HeartbeatIndex {
  readonly #devices = new Map<string, Recent>();

  /**
   * Record a heartbeat about to be inserted; returns whether it is a duplicate of a recent one (same
   * event id, or a DUP-flagged resend of the same payload under the same packet id), and whether it
   * goes into the device indexes.
   */
  admit(h: {
    deviceId: string;
    receivedAt: number;
    eventId?: string | undefined;
    mqttMid?: number | undefined;
    dup?: boolean | undefined;
    payload: string;
  }): { duplicate: boolean; indexed: boolean } {
    let r = this.#devices.get(h.deviceId);
    if (!r) {
      r = { keys: [], indexedAt: Number.NEGATIVE_INFINITY };
      this.#devices.set(h.deviceId, r);
    }
    const key =
      h.eventId ??
      (h.mqttMid === undefined ? undefined : `mid:${h.mqttMid}:${h.payload.length}:${fnv1a(h.payload)}`);
    if (key !== undefined) {
      // By id always; by packet id only for a resend (devices reuse packet ids all the time).
      if ((h.eventId !== undefined || h.dup === true) && r.keys.includes(key))
        return { duplicate: true, indexed: false };
      r.keys.push(key);
      if (r.keys.length > KEEP) r.keys.shift();
    }
    const indexed = h.receivedAt - r.indexedAt >= SAMPLE_MS || h.receivedAt < r.indexedAt;
    if (indexed) r.indexedAt = h.receivedAt;
    return { duplicate: false, indexed };
  }

  /** A commit failed: what was recorded since may not be stored, so recognise nothing as a duplicate. */
  forget(): void {
    this.#devices.clear();
  }
}

/** 32-bit FNV-1a of a string's UTF-16 units: tells two payloads apart without keeping them. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}
