import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../hub/src/config/load.js';
import type { AlertRecord } from '../../hub/src/model/alert.js';
import { percentile, responseTimeReport } from '../../hub/src/reports/response-times.js';
import { Directory } from '../../hub/src/site/directory.js';
import { demoRaw } from '../helpers/hub.js';

const directory = new Directory(parseConfig(demoRaw()));
const T0 = Date.parse('2026-11-26T10:00:00+08:00');

function rec(
  kind: string,
  ackAfterS: number | null,
  opts: { by?: string; resolveAfterS?: number; outcome?: string; drill?: boolean; at?: number } = {},
): AlertRecord {
  const raised = opts.at ?? T0;
  return {
    mergeKey: `${kind}:h1`,
    raisedAtMs: raised,
    updatedAtMs: raised,
    acknowledgedAtMs: ackAfterS === null ? null : raised + ackAfterS * 1000,
    resolvedAtMs: opts.resolveAfterS === undefined ? null : raised + opts.resolveAfterS * 1000,
    ...(opts.drill ? { drill: true } : {}),
    alert: {
      kind,
      homeId: 'h1',
      acknowledgedBy: ackAfterS === null ? null : (opts.by ?? 'duty1'),
      outcome: opts.outcome ?? null,
    } as unknown as AlertRecord['alert'],
  };
}

describe('response-time report', () => {
  it('nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it('counts time to ack and resolve, shares within 60 s / 180 s, by kind, staff and shift; drills and tests excluded', () => {
    const records = [
      rec('sos', 20, { resolveAfterS: 600 }),
      rec('sos', 50, { by: 'supervisor1', resolveAfterS: 900 }),
      rec('sos', 120),
      rec('smoke', 200, { at: Date.parse('2026-11-26T23:00:00+08:00') }),
      rec('sos', null),
      rec('sos', 5, { drill: true }),
      rec('sos', 5, { outcome: 'test' }),
    ];
    const r = responseTimeReport(records, directory);
    expect(r.excluded).toBe(2);
    expect(r.overall.count).toBe(5);
    expect(r.overall.acknowledged).toBe(4);
    expect(r.overall.ackWithin60s).toBeCloseTo(2 / 5);
    expect(r.overall.ackWithin180s).toBeCloseTo(3 / 5);
    expect(r.overall.ack).toEqual({ p50: 50, p90: 200, p95: 200 });
    expect(r.overall.resolve.p50).toBe(600);
    expect(r.byKind.sos?.count).toBe(4);
    expect(r.byKind.smoke?.ack.p50).toBe(200);
    expect(r.byStaff.supervisor1).toMatchObject({ count: 1, name: '周红 (Zhou Hong)' });
    expect(r.byShift.day?.count).toBe(4);
    expect(r.byShift.night?.count).toBe(1);
    expect(r.ackHistogram.find((b) => b.upToSeconds === 30)?.count).toBe(1);
    expect(r.ackHistogram.reduce((n, b) => n + b.count, 0)).toBe(4);
  });
});
