import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../clock/clock.js';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { AlertRecord } from '../../model/alert.js';
import { responseTimeReport } from '../../reports/response-times.js';
import type { Directory } from '../../site/directory.js';
import type { AlertRepo } from '../../store/alert-repo.js';
import type { AuditLog } from '../../store/audit-log.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';
import { timeParam } from './params.js';

const muteSchema = z.strictObject({ muted: z.boolean(), alertId: z.string().max(64).optional() });
const auditSchema = z.strictObject({
  from: timeParam,
  to: timeParam,
  actor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  afterSeq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const reportSchema = z.strictObject({ from: timeParam, to: timeParam });

const DAY = 24 * 3600_000;

export function staffRoutes(
  app: FastifyInstance,
  directory: Directory,
  audit: AuditLog,
  commands: Commands,
  alertRepo: AlertRepo,
  clock: Clock,
): void {
  const auth = { config: { auth: true } };
  app.get('/api/v1/staff', auth, async () => ({
    staff: directory.allStaff().map((s) => ({ id: s.id, name: s.name, role: s.role, grids: s.grids })),
  }));
  app.post('/api/v1/console/mute', auth, async (request) => {
    const staff = staffOf(request);
    const b = parseInput(muteSchema, request.body ?? {});
    await commands.audit(staff.id, b.muted ? 'console.mute' : 'console.unmute', b.alertId ?? 'console');
    return { ok: true };
  });
  app.get('/api/v1/audit', auth, async (request) => {
    if (staffOf(request).role !== 'admin')
      throw new HubError(ErrorCodes.FORBIDDEN, 'only admins read the audit trail');
    const q = parseInput(auditSchema, request.query, 'query');
    const entries = audit.query({
      fromMs: q.from,
      toMs: q.to,
      actor: q.actor,
      action: q.action,
      afterSeq: q.afterSeq,
      limit: q.limit,
    });
    const last = entries[entries.length - 1];
    return {
      entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      nextAfterSeq: entries.length === q.limit && last ? last.seq : null,
    };
  });
  app.get('/api/v1/reports/response-times', auth, async (request) => {
    const staff = staffOf(request);
    const q = parseInput(reportSchema, request.query, 'query');
    const to = q.to ?? clock.now();
    const from = q.from ?? to - 30 * DAY;
    const homeIds = directory
      .homes()
      .filter((h) => directory.canSee(staff, h.id))
      .map((h) => h.id);
    const records: AlertRecord[] = [];
    let after: { raisedAt: number; id: string } | undefined;
    for (;;) {
      const page = alertRepo.query({ homeIds, fromMs: from, toMs: to, limit: 1000, after });
      records.push(...page);
      const last = page[page.length - 1];
      if (page.length < 1000 || !last) break;
      after = { raisedAt: last.raisedAtMs, id: last.alert.id };
    }
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      ...responseTimeReport(records, directory),
    };
  });
}
