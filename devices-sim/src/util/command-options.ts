import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';
import type { CliIo } from '../cli-io.js';
import { parseOptions } from './options.js';

/**
 * The option handling every `carehub-sim` subcommand shares: parse the flags (no positionals),
 * answer `--help`, check the values with the command's zod schema. Returns the options, or the exit
 * code after printing help or a message that names the command.
 */
export function commandOptions<S extends z.ZodType>(
  command: string,
  usage: string,
  argv: string[],
  flags: NonNullable<ParseArgsConfig['options']>,
  schema: S,
  io: CliIo,
): { ok: true; value: z.output<S> } | { ok: false; exit: number } {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { ...flags, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`carehub-sim ${command}: ${(err as Error).message}\n\n${usage}`);
    return { ok: false, exit: 1 };
  }
  if (values.help) {
    io.out(usage);
    return { ok: false, exit: 0 };
  }
  const { help: _help, ...given } = values;
  const parsed = parseOptions(schema, given);
  if (!parsed.ok) {
    io.err(`carehub-sim ${command}: ${parsed.message}\n`);
    return { ok: false, exit: 1 };
  }
  return { ok: true, value: parsed.value };
}
