import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { directoryEntries, seedEntries } from '../core/directory-seed.js';
import { Replica } from '../core/replica.js';
import { ErrorCodes, HubError, isHubError } from '../errors.js';
import { loadCatalog, Messages } from '../i18n/messages.js';
import { createLogger } from '../log.js';
import type { DirectoryOp, DirectoryOpResult } from '../model/directory.js';
import type { DirectoryLogEntry } from '../model/entries.js';
import { type Directory, directoryDataOf } from '../site/directory.js';
import { checkOps } from '../site/directory-check.js';
import type { Problem } from '../site/problems.js';

const messages = new Messages(loadCatalog());

type Out = (text: string) => void;

/** Actor of the entries this command makes (the audit trail names it). */
const CLI_ACTOR = 'cli';

/**
 * `carehub import --config FILE [--dry-run]`: apply the file's grids, homes (with their devices) and
 * staff to the data dir's directory, as log entries, all or nothing. Records are added or replaced
 * by id; nothing the file does not name is removed (remove through the API or the console). On a
 * data dir not yet seeded this is the seed a first start would make. The hub must not be running
 * on the data dir (the data dir is locked): while it runs, change the site through the API.
 */
export function importCommand(args: string[], out: Out): number {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, 'dry-run': { type: 'boolean' } },
    strict: true,
  });
  const file = values.config ?? process.env.CAREHUB_CONFIG;
  if (!file)
    throw new HubError(ErrorCodes.BAD_REQUEST, 'carehub import: give --config FILE (or CAREHUB_CONFIG)');
  const config = loadConfigFile(file, process.env);
  const replica = Replica.open(config, createLogger('warn'));
  try {
    const now = Date.now();
    const entries = replica.seeded
      ? keepingStored(
          directoryEntries(directoryDataOf(config), now, { actor: CLI_ACTOR, seed: false, mode: 'upsert' }),
          replica.directory,
        )
      : seedEntries(config, now);
    const problems = replica.seeded
      ? checkOps(
          replica.directory,
          entries.flatMap((e) => e.ops),
          { unresolvedAlerts: (homeId) => replica.unresolvedAlerts(homeId) },
        )
      : [];
    if (problems.length > 0) {
      out(`${file}: ${problems.length} problem(s); nothing imported:\n`);
      for (const p of problems)
        out(
          `  ${describe(
            p,
            entries.flatMap((e) => e.ops),
          )}\n`,
        );
      return 1;
    }
    const homes = entries.filter((e) => e.homeId !== undefined).length;
    if (values['dry-run']) {
      out(
        `${file}: ${homes} homes and ${config.staff.length} staff would be ${replica.seeded ? 'imported' : 'seeded'}; nothing changed (--dry-run)\n`,
      );
      return 0;
    }
    const results = replica.submitAll(entries).flat() as DirectoryOpResult[];
    const created = results.filter((r) => r.created).length;
    out(
      `${file}: ${replica.seeded ? 'imported' : 'seeded'}: ${created} records created, ${results.length - created} replaced (${homes} homes, ${config.staff.length} staff); position ${replica.position}\n`,
    );
    return 0;
  } catch (err) {
    if (isHubError(err) && (err.details as { problems?: Problem[] } | undefined)?.problems) {
      out(`${file}: ${err.code}: ${err.message}; nothing imported\n`);
      return 1;
    }
    throw err;
  } finally {
    replica.close();
  }
}

/**
 * The file's records merged over what the store holds, so that an import loses nothing made at run
 * time: residents (by id) and contacts (by name) the file does not name stay, fields the file leaves
 * out keep their stored values, and a device or staff member already in the store keeps its secret
 * or password (the file's hash may be older than a rotation or a password change made since; change
 * those through the API).
 */
export function keepingStored(entries: DirectoryLogEntry[], directory: Directory): DirectoryLogEntry[] {
  const merge = (op: DirectoryOp): DirectoryOp => {
    switch (op.op) {
      case 'home.put': {
        const stored = directory.homeRecord(op.home.id);
        if (!stored) return op;
        const residentIds = new Set(op.home.residents.map((r) => r.id));
        const contactNames = new Set(op.home.contacts.map((c) => c.name));
        const home = {
          ...stored,
          ...op.home,
          residents: [...op.home.residents, ...stored.residents.filter((r) => !residentIds.has(r.id))],
          contacts: [...op.home.contacts, ...stored.contacts.filter((c) => !contactNames.has(c.name))],
        };
        return { ...op, home };
      }
      case 'device.put': {
        const stored = directory.deviceRecord(op.device.id);
        if (!stored) return op;
        const { secretHash: _file, ...rest } = op;
        const { secretHash, secretAt: _at, ...fields } = stored;
        const device = { ...fields, ...op.device };
        // A device the store has no secret for takes the file's.
        return secretHash === null ? { ...op, device } : { ...rest, device };
      }
      case 'staff.put': {
        if (!directory.staff(op.staff.id)) return op;
        const { passwordHash: _file, ...rest } = op;
        return rest;
      }
      default:
        return op;
    }
  };
  return entries.map((e) => ({ ...e, ops: e.ops.map(merge) }));
}

function describe(p: Problem, ops: ReturnType<typeof directoryEntries>[number]['ops']): string {
  const op = ops[p.op ?? 0];
  const record = op
    ? 'home' in op
      ? op.home
      : 'device' in op
        ? op.device
        : 'staff' in op
          ? op.staff
          : 'grid' in op
            ? op.grid
            : undefined
    : undefined;
  const where = op ? `${op.op.split('.')[0]} ${record?.id ?? ''}`.trim() : '';
  return `${where}${p.field ? ` ${p.field}` : ''}: ${p.code}: ${messages.t('en', p.key, p.params)}`;
}
