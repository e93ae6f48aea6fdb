import { z } from 'zod';
import { durationSchema, formatDuration } from './duration.js';

/** Command-line options (strings from parseArgs) through a zod schema: a value, or one message naming each bad option. */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  values: Record<string, unknown>,
): { ok: true; value: z.output<S> } | { ok: false; message: string } {
  const r = schema.safeParse(values);
  if (r.success) return { ok: true, value: r.data };
  const message = r.error.issues
    .map((i) => {
      const key = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys') return i.keys.map((k) => `--${k}: unknown option`).join('; ');
      const given = key && values[key] !== undefined ? ` (got "${String(values[key])}")` : '';
      return `${key ? `--${key}` : 'options'}: ${i.message}${given}`;
    })
    .join('; ');
  return { ok: false, message };
}

const text = () => z.string({ error: (iss) => (iss.input === undefined ? 'required' : undefined) });

/** A whole-number option within [min, max]. */
export function intOption(min: number, max: number) {
  return text()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A duration option ("90s", "10m", "1h") within [minMs, maxMs]. */
export function durationOption(minMs: number, maxMs: number) {
  return text()
    .pipe(durationSchema)
    .pipe(
      z
        .number()
        .min(minMs, `must be at least ${formatDuration(minMs)}`)
        .max(maxMs, `must be at most ${formatDuration(maxMs)}`),
    );
}
