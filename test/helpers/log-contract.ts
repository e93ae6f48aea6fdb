import { describe, expect, it } from 'vitest';
import type { LogEntry, Positioned } from '../../hub/src/model/entries.js';

/** One implementation of the hub's log as the contract suite drives it (adapted to promises). */
export interface LogUnderTest {
  /** Append durably; resolves once the entry would survive a crash. */
  append(entry: LogEntry): Promise<{ position: number; duplicate: boolean }>;
  read(after: number, limit: number): Promise<Positioned[]>;
  last(): Promise<number>;
  /** Close this handle and open the same log again (a restart). */
  reopen(): Promise<LogUnderTest>;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 10, 26, 1, 0, 0);

/** One entry of every kind, as the hub makes them. */
export function sampleEntries(): LogEntry[] {
  return [
    {
      kind: 'device',
      at: T0,
      deviceId: 'h1-sos',
      homeId: 'h1',
      type: 'sos.pressed',
      eventId: 'p1',
      payload: '{"type":"sos.pressed","id":"p1"}',
    },
    {
      kind: 'device',
      at: T0 + 1,
      deviceId: 'h1-door',
      homeId: 'h1',
      type: 'heartbeat',
      payload: '{"type":"heartbeat"}',
    },
    { kind: 'timer', at: T0 + 2, key: 'esc:al-1:1', dueAt: T0 + 1, late: true },
    {
      kind: 'staff',
      at: T0 + 3,
      staffId: 'duty1',
      action: { type: 'resolve', alertId: 'al-1', outcome: 'genuine', note: '好' },
    },
    { kind: 'mode', at: T0 + 4, staffId: 'duty1', homeId: 'h2', mode: 'away', until: T0 + 86_400_000 },
    {
      kind: 'audit',
      at: T0 + 5,
      actor: 'duty1',
      action: 'resident.read',
      target: 'h1',
      data: { residents: ['r1'] },
    },
    { kind: 'clock', at: T0 + 6 },
    { kind: 'start', at: T0 + 7 },
    { kind: 'session', at: T0 + 8, op: 'open', tokenHash: 'h', staffId: 'duty1', expiresAt: T0 + 3600_000 },
    { kind: 'session', at: T0 + 9, op: 'close-staff', staffId: 'duty1' },
    {
      kind: 'rhythm',
      at: T0 + 10,
      staffId: 'sup1',
      homeId: 'h2',
      change: { type: 'override', askAfterHours: 6 },
    },
    { kind: 'rhythm', at: T0 + 11, staffId: 'sup1', homeId: 'h2', change: { type: 'forget' } },
  ];
}

/**
 * The contract every log of the hub keeps (the SQLite journal alone; a replicated stream in a
 * cluster): durable appends in order, positions that only rise, entries read back as written,
 * duplicates of a device event id not appended twice, reads from any position.
 */
export function describeLogContract(name: string, open: () => Promise<LogUnderTest>): void {
  describe(`log contract: ${name}`, () => {
    it('reads back every kind of entry as written, in order, with rising positions', async () => {
      const log = await open();
      try {
        const entries = sampleEntries();
        const positions: number[] = [];
        for (const e of entries) positions.push((await log.append(e)).position);
        for (let i = 1; i < positions.length; i++)
          expect(positions[i]).toBeGreaterThan(positions[i - 1] as number);
        const read = await log.read(0, 100);
        expect(read.map((p) => p.position)).toEqual(positions);
        expect(read.map((p) => p.entry)).toEqual(entries);
        expect(await log.last()).toBe(positions.at(-1));
      } finally {
        await log.close();
      }
    });

    it('keeps what it acknowledged across a restart', async () => {
      let log = await open();
      const { position } = await log.append(sampleEntries()[0] as LogEntry);
      log = await log.reopen();
      try {
        expect((await log.read(0, 10)).map((p) => p.position)).toContain(position);
        const next = await log.append({ kind: 'clock', at: T0 + 100 });
        expect(next.position).toBeGreaterThan(position);
      } finally {
        await log.close();
      }
    });

    it('appends a device event id once: a redelivery is reported as a duplicate', async () => {
      const log = await open();
      try {
        const press = sampleEntries()[0] as LogEntry;
        const first = await log.append(press);
        const again = await log.append({ ...press, at: T0 + 60_000 });
        expect(first.duplicate).toBe(false);
        expect(again.duplicate).toBe(true);
        expect((await log.read(0, 10)).filter((p) => p.entry.kind === 'device')).toHaveLength(1);
      } finally {
        await log.close();
      }
    });

    it('reads from any position, bounded by the limit; past the end is empty', async () => {
      const log = await open();
      try {
        const positions: number[] = [];
        for (let i = 0; i < 25; i++)
          positions.push((await log.append({ kind: 'clock', at: T0 + i })).position);
        expect((await log.read(positions[9] as number, 5)).map((p) => p.position)).toEqual(
          positions.slice(10, 15),
        );
        expect(await log.read(positions.at(-1) as number, 10)).toEqual([]);
      } finally {
        await log.close();
      }
    });

    it('gives appends made at once distinct positions in the order they were made', async () => {
      const log = await open();
      try {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            log.append({
              kind: 'device',
              at: T0 + i,
              deviceId: 'h1-door',
              homeId: 'h1',
              type: 'door.opened',
              eventId: `c${i}`,
              payload: '{}',
            }),
          ),
        );
        const positions = results.map((r) => r.position);
        expect(new Set(positions).size).toBe(50);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      } finally {
        await log.close();
      }
    });
  });
}
