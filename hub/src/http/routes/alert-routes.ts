import { z } from 'zod';
import type { AlertChange, AlertService } from '../../alerts/alert-service.js';
import { ALERT_KINDS, OUTCOMES } from '../../alerts/types.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { Directory } from '../../site/directory.js';
import type { AlertRepo } from '../../store/alert-repo.js';
import type { Router } from '../router.js';
import { parseInput } from '../validate.js';

const timeParam = z
  .string()
  .transform((s, ctx) => {
    const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

const listSchema = z.strictObject({
  status: z.enum(['open', 'acknowledged', 'resolved', 'unresolved']).optional(),
  homeId: z.string().max(64).optional(),
  kind: z.enum(ALERT_KINDS).optional(),
  from: timeParam,
  to: timeParam,
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});

const versionSchema = z.number().int().positive().optional();
const ackSchema = z.strictObject({ version: versionSchema });
const resolveSchema = z.strictObject({ outcome: z.enum(OUTCOMES), note: z.string().max(2000).optional(), version: versionSchema });
const noteSchema = z.strictObject({ text: z.string().min(1).max(2000), version: versionSchema });

function encodeCursor(raisedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([raisedAt, id])).toString('base64url');
}
function decodeCursor(cursor: string): { raisedAt: number; id: string } {
  try {
    const [raisedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof raisedAt === 'number' && typeof id === 'string') return { raisedAt, id };
  } catch {
    // fall through
  }
  throw new HubError(ErrorCodes.BAD_REQUEST, 'invalid cursor');
}

export function alertRoutes(router: Router, repo: AlertRepo, alerts: AlertService, directory: Directory, onChanges: (c: AlertChange[]) => void): void {
  router.add({
    method: 'GET',
    path: '/api/v1/alerts',
    auth: true,
    handler: ({ url, staff }) => {
      const q = parseInput(listSchema, Object.fromEntries(url.searchParams));
      const visible = directory
        .homes()
        .filter((h) => staff && directory.canSee(staff, h.id))
        .map((h) => h.id);
      const homeIds = q.homeId ? visible.filter((id) => id === q.homeId) : visible;
      const rows = repo.query({
        status: q.status,
        homeIds,
        kind: q.kind,
        fromMs: q.from,
        toMs: q.to,
        limit: q.limit + 1,
        after: q.cursor ? decodeCursor(q.cursor) : undefined,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        alerts: page.map((r) => r.alert),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last.raisedAtMs, last.alert.id) : null,
      };
    },
  });
  router.add({
    method: 'GET',
    path: '/api/v1/alerts/:id',
    auth: true,
    handler: ({ params, staff }) => {
      const rec = repo.get(params.id ?? '');
      if (!rec || !staff || !directory.canSee(staff, rec.alert.homeId)) throw new HubError(ErrorCodes.ALERT_NOT_FOUND, `no alert ${params.id}`);
      return { alert: rec.alert };
    },
  });
  const act = (path: string, run: (id: string, body: unknown, staff: NonNullable<Parameters<typeof alerts.acknowledge>[1]>) => AlertChange | null) =>
    router.add({
      method: 'POST',
      path,
      auth: true,
      handler: ({ params, body, staff }) => {
        if (!staff) throw new HubError(ErrorCodes.UNAUTHENTICATED, 'log in first');
        const id = params.id ?? '';
        const change = run(id, body, staff);
        if (change) onChanges([change]);
        return { alert: change ? change.record.alert : repo.get(id)?.alert };
      },
    });
  act('/api/v1/alerts/:id/ack', (id, body, staff) => alerts.acknowledge(id, staff, parseInput(ackSchema, body).version));
  act('/api/v1/alerts/:id/resolve', (id, body, staff) => {
    const b = parseInput(resolveSchema, body);
    return alerts.resolve(id, staff, b.outcome, b.note, b.version);
  });
  act('/api/v1/alerts/:id/notes', (id, body, staff) => {
    const b = parseInput(noteSchema, body);
    return alerts.addNote(id, staff, b.text, b.version);
  });
}
