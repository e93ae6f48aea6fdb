import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { newDeviceSecret } from '../../auth/device-secret.js';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { DirectoryViews } from '../../homes/directory-views.js';
import type { HomeService } from '../../homes/home-service.js';
import type { Messages } from '../../i18n/messages.js';
import type { DeviceFields, DirectoryOp, HomeRecord } from '../../model/directory.js';
import type { Directory } from '../../site/directory.js';
import {
  deviceCreateSchema,
  devicePatchSchema,
  homeCreateSchema,
  homePatchSchema,
} from '../../site/directory-input.js';
import { languageOf, localized, parseAdmin } from '../admin-input.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';
import { pathId } from './params.js';

/** Where devices reach this hub's broker, for the installer sheet. */
export interface MqttEndpoints {
  mqtt?: number | undefined;
  mqtts?: number | undefined;
  /** Host name devices use, when it is not the one the admin's browser used (config: none yet). */
  host?: string | undefined;
}

export interface AdminHomeDeps {
  commands: Commands;
  directory: Directory;
  views: DirectoryViews;
  homes: HomeService;
  messages: Messages;
  endpoints: () => MqttEndpoints;
}

const forceSchema = z.strictObject({ force: z.enum(['0', '1', 'true', 'false']).optional() });
const provisionSchema = z.strictObject({ all: z.enum(['0', '1', 'true', 'false']).optional() });
const listSchema = z.strictObject({
  q: z.string().max(100).optional(),
  grid: z.string().max(64).optional(),
  homeId: z.string().max(64).optional(),
  status: z.enum(['offline', 'never', 'battery', 'unprovisioned']).optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const yes = (v: string | undefined) => v === '1' || v === 'true';

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Site administration of homes and their devices (docs/api.md, "Site administration"): admins
 * only, every change a `directory` log entry (core/commands.ts), refused whole with each problem by
 * field. A device's secret is made here, returned once and kept only as its hash.
 */
export function adminHomeRoutes(app: FastifyInstance, d: AdminHomeDeps): void {
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
  const homeOrThrow = (id: string): HomeRecord => {
    const home = d.directory.homeRecord(id);
    if (!home) throw new HubError(ErrorCodes.NOT_FOUND, `no home ${id}`);
    return home;
  };

  app.get(
    '/api/v1/admin/homes',
    admin,
    handle(async (request) => {
      const q = parseInput(listSchema, request.query, 'query');
      const page = d.views.homes(q);
      await d.homes.auditList(
        staffOf(request),
        page.homes.flatMap((h) => d.directory.home(h.id) ?? []),
      );
      return page;
    }),
  );
  app.get(
    '/api/v1/admin/homes/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const home = d.views.home(id);
      const config = d.directory.home(id);
      if (!home || !config) throw new HubError(ErrorCodes.NOT_FOUND, `no home ${id}`);
      await d.homes.auditRead(staffOf(request), config);
      return { home };
    }),
  );
  app.get(
    '/api/v1/admin/devices',
    admin,
    handle(async (request) => d.views.devices(parseInput(listSchema, request.query, 'query'))),
  );

  app.post(
    '/api/v1/homes',
    admin,
    handle(async (request, reply) => {
      const home = parseAdmin(homeCreateSchema, request.body);
      await d.commands.directory(actor(request), [{ op: 'home.put', mode: 'create', home }], home.id);
      reply.code(201);
      return { home: d.views.home(home.id) };
    }),
  );
  app.patch(
    '/api/v1/homes/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const patch = parseAdmin(homePatchSchema, request.body);
      const { force } = parseInput(forceSchema, request.query, 'query');
      const next: Record<string, unknown> = { ...homeOrThrow(id) };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) continue;
        if (v === null) delete next[k];
        else next[k] = v;
      }
      const op: DirectoryOp = { op: 'home.put', mode: 'update', home: next as HomeRecord };
      if (yes(force)) op.force = true;
      await d.commands.directory(actor(request), [op], id);
      return { home: d.views.home(id) };
    }),
  );
  app.delete(
    '/api/v1/homes/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const { force } = parseInput(forceSchema, request.query, 'query');
      const devices = d.directory.home(id)?.devices.map((x) => x.id) ?? [];
      // No homeId on the entry: the record that the home was removed stays when its rows are erased.
      await d.commands.directory(actor(request), [{ op: 'home.delete', homeId: id, force: yes(force) }]);
      return { ok: true, home: id, devicesRetired: devices, erased: true };
    }),
  );

  app.post(
    '/api/v1/homes/:id/devices',
    admin,
    handle(async (request, reply) => {
      const homeId = pathId(request);
      homeOrThrow(homeId);
      const fields = parseAdmin(deviceCreateSchema, request.body);
      // A device paired with a gateway speaks through it: it has no secret of its own.
      const made = fields.zigbee ? undefined : await newDeviceSecret();
      await d.commands.directory(
        actor(request),
        [{ op: 'device.put', mode: 'create', device: { ...fields, homeId }, secretHash: made?.hash ?? null }],
        homeId,
      );
      reply.code(201);
      return { device: d.views.device(fields.id), secret: made?.secret ?? null };
    }),
  );
  app.patch(
    '/api/v1/devices/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const current = d.directory.deviceRecord(id);
      if (!current) throw new HubError(ErrorCodes.NOT_FOUND, `no device ${id}`);
      const patch = parseAdmin(devicePatchSchema, request.body);
      const { homeId, secretHash: _h, secretAt: _a, ...fields } = current;
      const next: Record<string, unknown> = { ...fields };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) continue;
        if (v === null) delete next[k];
        else next[k] = v;
      }
      // The merged device must still hold together (a gateway without a gateway of its own …).
      parseAdmin(devicePatchSchema, { kind: next.kind, zigbee: next.zigbee, baseTopic: next.baseTopic });
      await d.commands.directory(
        actor(request),
        [{ op: 'device.put', mode: 'update', device: { ...(next as DeviceFields), homeId } }],
        homeId,
      );
      return { device: d.views.device(id) };
    }),
  );
  app.post(
    '/api/v1/devices/:id/secret',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const current = d.directory.deviceRecord(id);
      if (!current) throw new HubError(ErrorCodes.NOT_FOUND, `no device ${id}`);
      const made = await newDeviceSecret();
      await d.commands.directory(
        actor(request),
        [{ op: 'device.secret', deviceId: id, secretHash: made.hash }],
        current.homeId,
      );
      return { device: d.views.device(id), secret: made.secret };
    }),
  );
  app.delete(
    '/api/v1/devices/:id',
    admin,
    handle(async (request) => {
      const id = pathId(request);
      const current = d.directory.deviceRecord(id);
      if (!current) throw new HubError(ErrorCodes.NOT_FOUND, `no device ${id}`);
      await d.commands.directory(actor(request), [{ op: 'device.delete', deviceId: id }], current.homeId);
      return { ok: true, device: id };
    }),
  );

  // The installer sheet: new secrets for a home's devices (those without one, or all), shown once.
  app.post(
    '/api/v1/homes/:id/provision',
    admin,
    handle(async (request) => {
      const homeId = pathId(request);
      const { all } = parseInput(provisionSchema, request.query, 'query');
      const home = d.directory.home(homeId);
      if (!home) throw new HubError(ErrorCodes.NOT_FOUND, `no home ${homeId}`);
      const due = home.devices.filter((x) => !x.zigbee && (yes(all) || x.secretHash === ''));
      const secrets = new Map<string, string>();
      const ops: DirectoryOp[] = [];
      for (const dev of due) {
        const made = await newDeviceSecret();
        secrets.set(dev.id, made.secret);
        ops.push({ op: 'device.secret', deviceId: dev.id, secretHash: made.hash });
      }
      if (ops.length > 0) await d.commands.directory(actor(request), ops, homeId);
      const ends = d.endpoints();
      return {
        home: { id: home.id, address: home.address, grid: home.grid },
        mqtt: {
          host: ends.host ?? request.hostname,
          port: ends.mqtt ?? null,
          tlsPort: ends.mqtts ?? null,
        },
        devices: (d.directory.home(homeId)?.devices ?? []).map((x) => ({
          ...d.views.device(x.id),
          newSecret: secrets.get(x.id) ?? null,
        })),
      };
    }),
  );

  app.get(
    '/api/v1/directory/changes',
    admin,
    handle(async (request) => {
      const q = parseInput(
        z.strictObject({
          homeId: z.string().max(64).optional(),
          target: z.string().max(64).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        request.query,
        'query',
      );
      return { changes: d.views.changes(q) };
    }),
  );
}
