import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CHANNELS } from '../../config/notify-schema.js';
import type { Commands } from '../../core/commands.js';
import type { SendResult } from '../../delivery/channel.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { NotifyChannel } from '../../model/notify.js';
import type { Directory } from '../../site/directory.js';
import type { AlertRepo } from '../../store/alert-repo.js';
import type { NotifyRepo } from '../../store/notify-repo.js';
import { formatIso } from '../../time/iso.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';
import { pathId } from './params.js';

const testSchema = z.strictObject({
  homeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  contact: z.number().int().min(0).max(999),
  channel: z.enum(CHANNELS),
});

export interface NotifyRouteParts {
  repo: NotifyRepo;
  alerts: AlertRepo;
  directory: Directory;
  commands: Commands;
  /** Sends a test message now; undefined when notifications are not configured. */
  testSend?: ((homeId: string, contact: number, channel: NotifyChannel) => Promise<SendResult>) | undefined;
}

/**
 * The notifications of an alert as staff see them (deliveries, every attempt, who is going), and a
 * test message to a contact (supervisors and admins).
 */
/** Test messages from one address per minute (POST /api/v1/notifications/test). */
export const TEST_SENDS_PER_MINUTE = 6;

export function notifyRoutes(app: FastifyInstance, p: NotifyRouteParts): void {
  const auth = { config: { auth: true } };
  app.get('/api/v1/alerts/:id/notifications', auth, async (request) => {
    const id = pathId(request);
    const rec = p.alerts.get(id);
    if (!rec || !p.directory.canSee(staffOf(request), rec.alert.homeId))
      throw new HubError(ErrorCodes.ALERT_NOT_FOUND, `no alert ${id}`);
    const home = p.directory.home(rec.alert.homeId);
    const tz = p.directory.timezoneOf(rec.alert.homeId);
    const iso = (ms: number) => formatIso(ms, tz);
    const contact = (index: number) => {
      const c = home?.contacts[index];
      return { index, name: c?.name ?? `#${index + 1}`, relation: c?.relation ?? null };
    };
    return {
      deliveries: p.repo.byAlert(id).map((r) => ({
        id: r.id,
        step: r.step,
        contact: contact(r.contact),
        channel: r.channel,
        status: r.status,
        attempts: r.attempts,
        lastError: r.lastError,
        createdAt: iso(r.createdAt),
        updatedAt: iso(r.updatedAt),
        nextAt: r.status === 'pending' ? iso(r.nextAt) : null,
      })),
      attempts: p.repo.attempts(id).map((a) => ({
        delivery: a.rowId,
        attempt: a.attempt,
        at: iso(a.at),
        result: a.result,
        detail: a.detail,
      })),
      going: p.repo.going(id).map((g) => ({ contact: contact(g.contact), at: iso(g.at) })),
    };
  });

  // Test messages go straight to the channel, past the sender's per-robot limits: bounded here, so
  // testing cannot use up a robot's 20 messages a minute while an alert is live.
  const testSend = {
    config: {
      auth: true,
      rateLimit: {
        max: TEST_SENDS_PER_MINUTE,
        timeWindow: 60_000,
        errorResponseBuilder: () =>
          new HubError(ErrorCodes.TOO_MANY_ATTEMPTS, 'too many test messages; try again in a minute'),
      },
    },
  };
  app.post('/api/v1/notifications/test', testSend, async (request) => {
    const staff = staffOf(request);
    if (staff.role === 'duty')
      throw new HubError(ErrorCodes.FORBIDDEN, 'only supervisors and admins send test messages');
    const b = parseInput(testSchema, request.body ?? {});
    const home = p.directory.home(b.homeId);
    if (!home || !p.directory.canSee(staff, home.id))
      throw new HubError(ErrorCodes.NOT_FOUND, `no home ${b.homeId}`);
    if (!home.contacts[b.contact])
      throw new HubError(ErrorCodes.NOT_FOUND, `home ${home.id} has no contact ${b.contact}`);
    if (!p.testSend) throw new HubError(ErrorCodes.BAD_REQUEST, 'notifications are not configured');
    const result = await p.testSend(home.id, b.contact, b.channel);
    const ok = result.outcome === 'sent';
    await p.commands.audit(staff.id, 'notify.test', home.id, {
      contact: b.contact,
      channel: b.channel,
      ok,
      detail: result.detail,
    });
    return { ok, outcome: result.outcome, detail: result.detail };
  });
}
