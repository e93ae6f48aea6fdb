import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { HomeService } from '../../homes/home-service.js';
import type { Directory } from '../../site/directory.js';
import type { JournalRow } from '../../store/journal.js';
import { formatIso } from '../../time/iso.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';
import { pathId, timeParam } from './params.js';

const modeSchema = z.strictObject({
  mode: z.enum(['home', 'away', 'maintenance']),
  until: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time')
    .optional(),
});

const eventsSchema = z.strictObject({
  from: timeParam,
  to: timeParam,
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export interface DeviceEventSource {
  deviceEvents(
    deviceId: string,
    fromMs: number | undefined,
    toMs: number | undefined,
    limit: number,
  ): JournalRow[];
}

export function homeRoutes(
  app: FastifyInstance,
  homes: HomeService,
  commands: Commands,
  directory: Directory,
  events: DeviceEventSource,
): void {
  const auth = { config: { auth: true } };
  app.get('/api/v1/homes', auth, async (request) => ({ homes: await homes.list(staffOf(request)) }));
  app.get('/api/v1/homes/:id', auth, async (request) => ({
    home: await homes.detail(staffOf(request), pathId(request)),
  }));
  app.post('/api/v1/homes/:id/mode', auth, async (request) => {
    const staff = staffOf(request);
    const id = pathId(request);
    const b = parseInput(modeSchema, request.body ?? {});
    await commands.setMode(staff, id, b.mode, b.until === undefined ? null : Date.parse(b.until));
    return { home: homes.summary(staff, id) };
  });
  app.get('/api/v1/devices/:id/events', auth, async (request) => {
    const staff = staffOf(request);
    const id = pathId(request);
    const entry = directory.device(id);
    if (!entry || !directory.canSee(staff, entry.home.id))
      throw new HubError(ErrorCodes.NOT_FOUND, `no device ${id}`);
    const q = parseInput(eventsSchema, request.query, 'query');
    const tz = directory.timezoneOf(entry.home.id);
    return {
      events: events.deviceEvents(entry.device.id, q.from, q.to, q.limit).map((r) => {
        const payload = JSON.parse(r.payload) as Record<string, unknown>;
        const out: Record<string, unknown> = { seq: r.seq, at: formatIso(r.received_at, tz), type: r.type };
        if (r.event_id !== null) out.id = r.event_id;
        for (const k of ['battery', 'batteryLow', 'rssi'] as const)
          if (payload[k] !== undefined) out[k] = payload[k];
        return out;
      }),
    };
  });
}
