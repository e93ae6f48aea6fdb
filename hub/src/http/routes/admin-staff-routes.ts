import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { passwordHash } from '../../auth/device-secret.js';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { DirectoryViews } from '../../homes/directory-views.js';
import type { Messages } from '../../i18n/messages.js';
import type { DirectoryOp, StaffFields } from '../../model/directory.js';
import type { Directory } from '../../site/directory.js';
import {
  gridCreateSchema,
  gridPatchSchema,
  staffCreateSchema,
  staffPatchSchema,
} from '../../site/directory-input.js';
import { languageOf, localized, parseAdmin } from '../admin-input.js';
import { staffOf } from '../request-guards.js';
import { pathId } from './params.js';

export interface AdminStaffDeps {
  commands: Commands;
  directory: Directory;
  views: DirectoryViews;
  messages: Messages;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Staff and grids, administered at run time (docs/api.md, "Site administration"). Passwords are
 * hashed here (scrypt) and enter the log only as hashes. A staff member removed, or whose password
 * changed, loses their sessions and feeds at once; one whose role or grids changed sees the new scope.
 */
export function adminStaffRoutes(app: FastifyInstance, d: AdminStaffDeps): void {
  const admin = { config: { auth: true, admin: true } };
  const handle =
    (fn: Handler): Handler =>
    async (request, reply) => {
      try {
        return await fn(request, reply);
      } catch (err) {
        throw localized(err, d.messages, languageOf(request, staffOf(request).locale));
      }
    };
  const actor = (request: FastifyRequest) => staffOf(request).id;
  const view = (id: string) => d.views.staff().find((s) => s.id === id);

  app.post(
    '/api/v1/staff',
    admin,
    handle(async (request, reply) => {
      const { password, ...staff } = parseAdmin(staffCreateSchema, request.body);
      const hash = await passwordHash(password);
      await d.commands.directory(actor(request), [
        { op: 'staff.put', mode: 'create', staff: staff as StaffFields, passwordHash: hash },
      ]);
      reply.code(201);
      return { staff: view(staff.id) };
    }),
  );
  app.patch(
    '/api/v1/staff/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const current = d.directory.staff(id);
      if (!current) throw new HubError(ErrorCodes.NOT_FOUND, `no staff member ${id}`);
      const { password, ...patch } = parseAdmin(staffPatchSchema, request.body);
      const { passwordHash: _kept, ...fields } = current;
      const next: Record<string, unknown> = { ...fields };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) continue;
        if (v === null) delete next[k];
        else next[k] = v;
      }
      const op: DirectoryOp = { op: 'staff.put', mode: 'update', staff: next as StaffFields };
      if (password !== undefined) op.passwordHash = await passwordHash(password);
      await d.commands.directory(actor(request), [op]);
      return { staff: view(id) };
    }),
  );
  app.delete(
    '/api/v1/staff/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      await d.commands.directory(actor(request), [{ op: 'staff.delete', staffId: id }]);
      return { ok: true, staff: id };
    }),
  );

  app.get(
    '/api/v1/grids',
    admin,
    handle(async () => ({ grids: d.views.grids() })),
  );
  app.post(
    '/api/v1/grids',
    admin,
    handle(async (request, reply) => {
      const grid = parseAdmin(gridCreateSchema, request.body);
      await d.commands.directory(actor(request), [{ op: 'grid.put', mode: 'create', grid }]);
      reply.code(201);
      return { grid: d.views.grids().find((g) => g.id === grid.id) };
    }),
  );
  app.patch(
    '/api/v1/grids/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const { name } = parseAdmin(gridPatchSchema, request.body);
      await d.commands.directory(actor(request), [{ op: 'grid.put', mode: 'update', grid: { id, name } }]);
      return { grid: d.views.grids().find((g) => g.id === id) };
    }),
  );
  app.delete(
    '/api/v1/grids/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      await d.commands.directory(actor(request), [{ op: 'grid.delete', gridId: id }]);
      return { ok: true, grid: id };
    }),
  );
}
