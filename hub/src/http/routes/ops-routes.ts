import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock, ManualClock } from '../../clock/clock.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';

export interface HealthSource {
  health(): { status: 'ok' | 'degraded' | 'unavailable'; checks: Record<string, unknown> };
}

const advanceSchema = z.strictObject({
  ms: z
    .number()
    .int()
    .min(0)
    .max(366 * 24 * 3600_000),
});

export function opsRoutes(app: FastifyInstance, health: HealthSource, metrics: Metrics): void {
  // 200 while the hub takes alarms, even degraded (a sink down): liveness, not a pager. 503 only
  // when it cannot take them (a cluster node cut off from NATS): a balancer then sends devices elsewhere.
  app.get('/healthz', async (_request, reply) => {
    const h = health.health();
    if (h.status === 'unavailable') reply.code(503);
    return h;
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.registry.metrics()),
  );
}

/** PROTOCOL.md §3 drill clock: only with `clock: manual`, and only for supervisors and admins. */
export function clockRoutes(app: FastifyInstance, clock: Clock, advance: (ms: number) => void): void {
  const manual = clock.kind === 'manual' ? (clock as ManualClock) : undefined;
  const guard = (role: string) => {
    if (!manual)
      throw new HubError(
        ErrorCodes.CLOCK_NOT_MANUAL,
        'the drill clock is off (set clock: manual or CAREHUB_CLOCK=manual)',
      );
    if (role !== 'supervisor' && role !== 'admin')
      throw new HubError(ErrorCodes.FORBIDDEN, 'only supervisors and admins move the drill clock');
  };
  const auth = { config: { auth: true } };
  app.get('/api/v1/clock', auth, async (request) => {
    guard(staffOf(request).role);
    return { now: new Date(clock.now()).toISOString(), nowMs: clock.now(), kind: clock.kind };
  });
  app.post('/api/v1/clock/advance', auth, async (request) => {
    guard(staffOf(request).role);
    const { ms } = parseInput(advanceSchema, request.body ?? {});
    advance(ms);
    return { now: new Date(clock.now()).toISOString(), nowMs: clock.now() };
  });
}
