import { z } from 'zod';
import type { Clock, ManualClock } from '../../clock/clock.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import type { Router } from '../router.js';
import { parseInput } from '../validate.js';

export interface HealthSource {
  health(): { status: 'ok' | 'degraded'; checks: Record<string, unknown> };
}

const advanceSchema = z.strictObject({
  ms: z
    .number()
    .int()
    .min(0)
    .max(366 * 24 * 3600_000),
});

export function opsRoutes(router: Router, health: HealthSource, metrics: Metrics): void {
  router.add({
    method: 'GET',
    path: '/healthz',
    auth: false,
    handler: ({ res }) => {
      const h = health.health();
      // 200 while the hub takes alarms, even degraded (a sink down): liveness, not a pager.
      res.statusCode = 200;
      return h;
    },
  });
  router.add({
    method: 'GET',
    path: '/metrics',
    auth: false,
    handler: async () => metrics.registry.metrics(),
  });
}

/** PROTOCOL.md §3 drill clock: only with `clock: manual`, and only for supervisors and admins. */
export function clockRoutes(router: Router, clock: Clock, advance: (ms: number) => void): void {
  const manual = clock.kind === 'manual' ? (clock as ManualClock) : undefined;
  const guard = (role: string | undefined) => {
    if (!manual)
      throw new HubError(
        ErrorCodes.CLOCK_NOT_MANUAL,
        'the drill clock is off (set clock: manual or CAREHUB_CLOCK=manual)',
      );
    if (role !== 'supervisor' && role !== 'admin')
      throw new HubError(ErrorCodes.FORBIDDEN, 'only supervisors and admins move the drill clock');
  };
  router.add({
    method: 'GET',
    path: '/api/v1/clock',
    auth: true,
    handler: ({ staff }) => {
      guard(staff?.role);
      return { now: new Date(clock.now()).toISOString(), nowMs: clock.now(), kind: clock.kind };
    },
  });
  router.add({
    method: 'POST',
    path: '/api/v1/clock/advance',
    auth: true,
    handler: ({ staff, body }) => {
      guard(staff?.role);
      const { ms } = parseInput(advanceSchema, body);
      advance(ms);
      return { now: new Date(clock.now()).toISOString(), nowMs: clock.now() };
    },
  });
}
