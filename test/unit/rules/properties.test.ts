import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RulesHarness } from '../../helpers/rules-harness.js';

const DEVICES = [
  'h1-sos',
  'h1-door',
  'h1-smoke',
  'h1-motion',
  'h2-sos',
  'h2-door',
  'h2-smoke',
  'h3-sos',
  'h3-door',
  'h3-motion',
];
const TYPES = [
  'sos.pressed',
  'sos.cancelled',
  'door.opened',
  'door.closed',
  'smoke.detected',
  'smoke.cleared',
  'smoke.test',
  'motion.detected',
  'tamper',
  'heartbeat',
  'status.offline',
  'status.online',
];

type Command =
  | { kind: 'event'; device: string; type: string; battery: number | undefined }
  | { kind: 'advance'; ms: number }
  | { kind: 'resolve'; pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      device: fc.constantFrom(...DEVICES),
      type: fc.constantFrom(...TYPES),
      battery: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 4 * 3600_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resolve' as const), pick: fc.nat() }) },
);

describe('rules engine properties (fast-check, random event sequences on the drill clock)', () => {
  it('no condition has two unresolved alerts, and every SOS press is counted exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 40 }),
        fc.integer({ min: 0, max: 6 * 24 * 3600_000 }),
        (commands, offset) => {
          const h = RulesHarness.create({ start: Date.parse('2026-11-23T00:00:00+08:00') + offset });
          const presses: Record<string, number> = {};
          try {
            const sup = h.hub.directory.staff('supervisor1');
            if (!sup) throw new Error('setup');
            for (const c of commands) {
              if (c.kind === 'event') {
                h.event(c.device, {
                  type: c.type,
                  ...(c.battery === undefined ? {} : { battery: c.battery }),
                });
                if (c.type === 'sos.pressed') {
                  const home = c.device.slice(0, 2);
                  presses[home] = (presses[home] ?? 0) + 1;
                }
              } else if (c.kind === 'advance') {
                h.advance(c.ms);
              } else {
                const open = h.hub.store.alerts.unresolved();
                const target = open[c.pick % Math.max(1, open.length)];
                if (target) h.resolve(target.alert.id, 'genuine', undefined);
              }
              const openKeys = h.hub.store.alerts.unresolved().map((r) => r.mergeKey);
              const dupes = openKeys.filter((k, n) => openKeys.indexOf(k) !== n);
              expect(dupes).toEqual([]);
            }
            for (const home of ['h1', 'h2', 'h3']) {
              const counted = h
                .alerts({ kind: 'sos', homeId: home })
                .reduce((n, a) => n + a.alert.occurrences, 0);
              expect(counted).toBe(presses[home] ?? 0);
            }
          } finally {
            h.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
