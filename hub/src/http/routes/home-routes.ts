import { z } from 'zod';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { HomeService } from '../../homes/home-service.js';
import type { Directory } from '../../site/directory.js';
import type { JournalRow } from '../../store/journal.js';
import { formatIso } from '../../time/iso.js';
import type { Router } from '../router.js';
import { parseInput } from '../validate.js';
import { timeParam } from './params.js';

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
  router: Router,
  homes: HomeService,
  commands: Commands,
  directory: Directory,
  events: DeviceEventSource,
): void {
  router.add({
    method: 'GET',
    path: '/api/v1/homes',
    auth: true,
    handler: ({ staff }) => ({ homes: staff ? homes.list(staff) : [] }),
  });
  router.add({
    method: 'GET',
    path: '/api/v1/homes/:id',
    auth: true,
    handler: async ({ staff, params }) => {
      if (!staff) throw new HubError(ErrorCodes.UNAUTHENTICATED, 'log in first');
      return { home: await homes.detail(staff, params.id ?? '') };
    },
  });
  router.add({
    method: 'POST',
    path: '/api/v1/homes/:id/mode',
    auth: true,
    handler: async ({ staff, params, body }) => {
      if (!staff) throw new HubError(ErrorCodes.UNAUTHENTICATED, 'log in first');
      const b = parseInput(modeSchema, body);
      const homeId = params.id ?? '';
      await commands.setMode(staff, homeId, b.mode, b.until === undefined ? null : Date.parse(b.until));
      return { home: homes.summary(staff, homeId) };
    },
  });
  router.add({
    method: 'GET',
    path: '/api/v1/devices/:id/events',
    auth: true,
    handler: ({ staff, params, url }) => {
      const entry = directory.device(params.id ?? '');
      if (!entry || !staff || !directory.canSee(staff, entry.home.id))
        throw new HubError(ErrorCodes.NOT_FOUND, `no device ${params.id}`);
      const q = parseInput(eventsSchema, Object.fromEntries(url.searchParams), 'query');
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
    },
  });
}
