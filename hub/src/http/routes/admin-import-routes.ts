import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { Messages } from '../../i18n/messages.js';
import type { Directory } from '../../site/directory.js';
import { planImport } from '../../site/directory-csv.js';
import { directoryCsv, directoryDocument, directoryYaml } from '../../site/directory-export.js';
import { refusal, rendered } from '../../site/problems.js';
import type { AlertRepo } from '../../store/alert-repo.js';
import { languageOf, localized } from '../admin-input.js';
import { withMethodNotAllowed } from '../method-not-allowed.js';
import { staffOf } from '../request-guards.js';
import { parseInput } from '../validate.js';

/** The largest import file in bytes. Larger is refused (413) unread. */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;

/**
 * The most rows (devices) one import through the API applies. An import is one unit of work: while
 * it is checked and applied the hub reads no MQTT packet and raises no alert (~2 ms per home on a
 * busy 2-core machine: 10 000 homes stood still for 22 s). 300 rows, ~100 homes, keep it near
 * half a second there. A whole district moves over once, with the hub stopped, by `carehub import`.
 */
export const MAX_IMPORT_ROWS = 300;

/** Data rows of a CSV, counted without parsing it: line ends, less the header (an upper bound). */
function roughRows(body: Buffer): number {
  let lines = 0;
  for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) lines++;
  if (body.length > 0 && body[body.length - 1] !== 10) lines++;
  return Math.max(0, lines - 1);
}

export interface AdminImportDeps {
  commands: Commands;
  directory: Directory;
  alerts: AlertRepo;
  messages: Messages;
  /** An audit row for a read of the residents' data (the export). */
  audit: (actor: string, action: string, target: string, data: Record<string, unknown>) => Promise<void>;
}

const importQuery = z.strictObject({ dryRun: z.enum(['0', '1', 'true', 'false']).optional() });
const exportQuery = z.strictObject({ format: z.enum(['csv', 'yaml', 'json']).optional() });

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * CSV import (all or nothing, with a dry run that lists every problem by row and column) and the
 * export (JSON, YAML or CSV by Accept, never a secret or a hash). In a scope of their own: the only
 * place that reads a body other than JSON, text/csv, with its own size limit.
 */
export function adminImportRoutes(app: FastifyInstance, d: AdminImportDeps): void {
  app.register(async (scope) => {
    scope.addContentTypeParser(
      'text/csv',
      { parseAs: 'buffer', bodyLimit: MAX_IMPORT_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.setErrorHandler((err, _request, _reply) => {
      if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        throw new HubError(
          ErrorCodes.PAYLOAD_TOO_LARGE,
          `an import file is at most ${MAX_IMPORT_BYTES} bytes: split it`,
        );
      throw err;
    });
    const admin = { config: { auth: true, admin: true }, bodyLimit: MAX_IMPORT_BYTES };
    const handle =
      (fn: Handler): Handler =>
      async (request, reply) => {
        try {
          return await fn(request, reply);
        } catch (err) {
          throw localized(err, d.messages, languageOf(request, staffOf(request).locale));
        }
      };
    withMethodNotAllowed(scope, () => {
      scope.post(
        '/api/v1/import',
        admin,
        handle(async (request) => {
          const { dryRun } = parseInput(importQuery, request.query, 'query');
          if (!Buffer.isBuffer(request.body))
            throw new HubError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the file as Content-Type: text/csv');
          const rows = roughRows(request.body);
          if (rows > MAX_IMPORT_ROWS)
            throw new HubError(
              ErrorCodes.IMPORT_TOO_LARGE,
              `an import through the API has at most ${MAX_IMPORT_ROWS} rows (this file has ${rows}): the hub stops listening to devices while it applies one, so split the file; a whole site moves over with \`carehub import\` while the hub is stopped`,
              { details: { rows, maxRows: MAX_IMPORT_ROWS } },
            );
          const plan = planImport(request.body, d.directory, {
            unresolvedAlerts: (homeId) => d.alerts.unresolvedIn(homeId),
          });
          const counts = {
            created: plan.homes.created + plan.devices.created,
            updated: plan.homes.updated + plan.devices.updated,
            homes: plan.homes,
            devices: plan.devices,
          };
          const locale = languageOf(request, staffOf(request).locale);
          if (dryRun === '1' || dryRun === 'true')
            return {
              dryRun: true,
              ...counts,
              problems: rendered(plan.problems, (key, params) => d.messages.t(locale, key, params)),
            };
          if (plan.problems.length > 0) throw refusal(plan.problems, (key) => key, ErrorCodes.IMPORT_INVALID);
          // One entry per home, all in one unit of work: every home of the file, or none.
          await d.commands.directoryBatch(
            staffOf(request).id,
            plan.changes.map((c) => ({ ops: c.ops, homeId: c.homeId })),
          );
          return { dryRun: false, ...counts, problems: [] };
        }),
      );
      scope.get(
        '/api/v1/export',
        { config: { auth: true, admin: true } },
        handle(async (request, reply) => {
          // ?format= (a link in the console), else by Accept.
          const accept = String(request.headers.accept ?? '');
          const format =
            parseInput(exportQuery, request.query, 'query').format ??
            (/text\/csv/.test(accept) ? 'csv' : /yaml/.test(accept) ? 'yaml' : 'json');
          await d.audit(staffOf(request).id, 'directory.export', 'site', {
            format,
            homes: d.directory.homes().length,
          });
          if (format === 'csv') {
            reply
              .type('text/csv; charset=utf-8')
              .header('content-disposition', 'attachment; filename="carehub-directory.csv"');
            // A byte-order mark, so a spreadsheet opens the Chinese text as UTF-8.
            return `\uFEFF${directoryCsv(d.directory)}`;
          }
          if (format === 'yaml') {
            reply.type('application/yaml; charset=utf-8');
            return directoryYaml(d.directory);
          }
          return directoryDocument(d.directory);
        }),
      );
    });
  });
}
