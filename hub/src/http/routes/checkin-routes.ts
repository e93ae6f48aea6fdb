import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../clock/clock.js';
import type { Commands } from '../../core/commands.js';
import type { HomeService } from '../../homes/home-service.js';
import type { RhythmChange } from '../../model/home-rhythm.js';
import { checkinReport } from '../../reports/checkins.js';
import type { RulesRuntime } from '../../rules/runtime.js';
import type { Directory } from '../../site/directory.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';
import { pathId, timeParam } from './params.js';

const DAY = 24 * 3600_000;

const rhythmSchema = z.union([
  /** Ask after this many hours of quiet whatever the hour (null: back to what was learned). */
  z.strictObject({ askAfterHours: z.number().min(1).max(168).nullable() }),
  /** Forget what was learned (a new routine): the safe default until enough days are seen again. */
  z.strictObject({ forget: z.literal(true) }),
]);

const reportSchema = z.strictObject({ from: timeParam, to: timeParam });

/** A home's learned rhythm (staff override it) and the check-in report (docs/api.md). */
export function checkinRoutes(
  app: FastifyInstance,
  homes: HomeService,
  commands: Commands,
  rules: RulesRuntime,
  directory: Directory,
  clock: Clock,
): void {
  const auth = { config: { auth: true } };
  app.post('/api/v1/homes/:id/rhythm', auth, async (request) => {
    const staff = staffOf(request);
    const id = pathId(request);
    const b = parseInput(rhythmSchema, request.body ?? {});
    const change: RhythmChange =
      'forget' in b
        ? { type: 'forget' }
        : b.askAfterHours === null
          ? { type: 'clear' }
          : { type: 'override', askAfterHours: b.askAfterHours };
    await commands.setRhythm(staff, id, change);
    return homes.rhythm(staff, id);
  });
  app.get('/api/v1/reports/checkins', auth, async (request) => {
    const staff = staffOf(request);
    const q = parseInput(reportSchema, request.query, 'query');
    const to = q.to ?? clock.now();
    const from = q.from ?? to - 30 * DAY;
    const visible = directory.homes().filter((h) => directory.canSee(staff, h.id));
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      ...checkinReport(
        visible.map((h) => ({
          id: h.id,
          address: h.address,
          grid: h.grid,
          tz: directory.timezoneOf(h.id),
          rhythm: rules.rhythmOf(h.id),
        })),
        from,
        to,
      ),
    };
  });
}
