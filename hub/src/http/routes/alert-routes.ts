import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import { ALERT_KINDS, OUTCOMES } from '../../model/alert.js';
import type { StaffAction } from '../../model/entries.js';
import type { Directory } from '../../site/directory.js';
import type { AlertRepo } from '../../store/alert-repo.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';
import { pathId, timeParam } from './params.js';

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
const resolveSchema = z.strictObject({
  outcome: z.enum(OUTCOMES),
  note: z.string().max(2000).optional(),
  version: versionSchema,
});
const noteSchema = z.strictObject({ text: z.string().min(1).max(2000), version: versionSchema });
const assignSchema = z.strictObject({
  staffId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  version: versionSchema,
});

function encodeCursor(raisedAt: number, id: string): string {
  return Buffer.from(JSON.stringify([raisedAt, id])).toString('base64url');
}
function decodeCursor(cursor: string): { raisedAt: number; id: string } {
  try {
    const [raisedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof raisedAt === 'number' && typeof id === 'string') return { raisedAt, id };
  } catch {
    // fall through
  }
  throw new HubError(ErrorCodes.BAD_REQUEST, 'invalid cursor');
}

export function alertRoutes(
  app: FastifyInstance,
  repo: AlertRepo,
  commands: Commands,
  directory: Directory,
): void {
  const auth = { config: { auth: true } };
  app.get('/api/v1/alerts', auth, async (request) => {
    const staff = staffOf(request);
    const q = parseInput(listSchema, request.query, 'query');
    const visible = directory
      .homes()
      .filter((h) => directory.canSee(staff, h.id))
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
  });
  app.get('/api/v1/alerts/:id', auth, async (request) => {
    const id = pathId(request);
    const rec = repo.get(id);
    if (!rec || !directory.canSee(staffOf(request), rec.alert.homeId))
      throw new HubError(ErrorCodes.ALERT_NOT_FOUND, `no alert ${id}`);
    return { alert: rec.alert };
  });
  const act = (path: string, toAction: (id: string, body: unknown) => StaffAction) =>
    app.post(path, auth, async (request) => {
      const staff = staffOf(request);
      const id = pathId(request);
      const change = await commands.staffAction(staff, toAction(id, request.body ?? {}));
      return { alert: change ? change.record.alert : repo.get(id)?.alert };
    });
  act('/api/v1/alerts/:id/ack', (alertId, body) => ({
    type: 'ack',
    alertId,
    version: parseInput(ackSchema, body).version,
  }));
  act('/api/v1/alerts/:id/resolve', (alertId, body) => ({
    type: 'resolve',
    alertId,
    ...parseInput(resolveSchema, body),
  }));
  act('/api/v1/alerts/:id/notes', (alertId, body) => ({
    type: 'note',
    alertId,
    ...parseInput(noteSchema, body),
  }));
  act('/api/v1/alerts/:id/assign', (alertId, body) => ({
    type: 'assign',
    alertId,
    ...parseInput(assignSchema, body),
  }));
}
