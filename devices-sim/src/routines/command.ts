import { z } from 'zod';
import { formatIssues } from '../../../hub/src/config/load.js';
import { ruleSettingsSchema } from '../../../hub/src/config/rules-schema.js';
import type { CliIo } from '../cli-io.js';
import { commandOptions } from '../util/command-options.js';
import { intOption } from '../util/options.js';
import { checkinSummary } from './checkin-summary.js';
import { allDetected, formatRoutineResult, goalMet, routineResultJson } from './report.js';
import { DEFAULT_START_DATE, runRoutines } from './run.js';
import { formatStudy, studyVerdict } from './study.js';

export const ROUTINES_USAGE = `Usage: carehub-sim routines --residents N --days D --seed S [--incidents] [--falls] [options]
       carehub-sim routines --seeds FROM-TO --days D [--falls] [options]

Generates realistic days for N residents (seeded: the same seed gives the same days), plays them
through real MQTT clients on the drill clock of an in-process hub with hourly heartbeats, and
reports per rule: alerts, false alerts per resident-day, and with --incidents the detection of
injected incidents (fall, fire, night wandering, SOS, battery death) and their delays. Residents
answer the hub's check-in requests like people do: most of the time, less when hard of hearing
or asleep, never while out or fallen; the report counts prompts, answers and misses.

Exit 0 when the false alerts meet the care-quality goal (at most 1 per 30 resident-days) and,
with --incidents, every incident raised its alerts; 1 otherwise. With --seeds: one run per seed,
a table per seed and per home kind, and exit 0 when every seed has at most 1 false alert per 90
resident-days, prompts average at most 0.3 per resident-day and every fall was found in time.

Options:
  --residents N     residents (one per home; 1-200, default 10)
  --days D          days to play (1-60, default 3)
  --seed S          seed of the generator (default 1)
  --incidents       inject one incident per resident (needs --days 2 or more)
  --falls           every resident falls once in the last quarter of the run: by day, or at
                    night in one home with a motion sensor in three (needs --days 4 or more)
  --seeds FROM-TO   run every seed from FROM to TO (e.g. 1-20) and print the study tables
  --start DATE      local date the run starts on, at midnight (default ${DEFAULT_START_DATE})
  --rule KEY=VALUE  try a site-wide rule setting instead of its default (repeatable), e.g.
                    --rule inactivity.hoursDoorOnly=36 --rule nightExit.noReturnMinutes=20
  --json            print a machine-readable result
  -h, --help        this text

Example:
  carehub-sim routines --residents 10 --days 3 --seed 1
  carehub-sim routines --residents 5 --days 3 --seed 1 --incidents
  carehub-sim routines --seeds 1-20 --days 30 --incidents --falls
`;

const optionsSchema = z
  .strictObject({
    residents: intOption(1, 200).default(10),
    days: intOption(1, 60).default(3),
    seed: intOption(0, 2 ** 32 - 1).default(1),
    incidents: z.boolean().default(false),
    falls: z.boolean().default(false),
    seeds: z
      .string()
      .regex(/^\d+-\d+$/, 'write FROM-TO, e.g. 1-20')
      .transform((v) => v.split('-').map(Number) as [number, number])
      .refine(([a, b]) => a <= b && b - a < 200, 'FROM must not be after TO, at most 200 seeds')
      .optional(),
    start: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
      .default(DEFAULT_START_DATE),
    rule: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z]+(\.[A-Za-z0-9]+)*=.+$/, 'write KEY=VALUE, e.g. inactivity.hoursDoorOnly=36'),
      )
      .default([]),
    json: z.boolean().default(false),
  })
  .refine((o) => !o.incidents || o.days >= 2, {
    path: ['days'],
    message: 'incidents need at least 2 days (a fall in a door-only home takes 24 h to notice)',
  })
  .refine((o) => !o.falls || o.days >= 4, {
    path: ['days'],
    message: 'falls need at least 4 days (they come in the last quarter, and take up to 24 h to notice)',
  });

export async function routinesCommand(argv: string[], io: CliIo): Promise<number> {
  const opts = commandOptions(
    'routines',
    ROUTINES_USAGE,
    argv,
    {
      residents: { type: 'string' },
      days: { type: 'string' },
      seed: { type: 'string' },
      incidents: { type: 'boolean' },
      falls: { type: 'boolean' },
      seeds: { type: 'string' },
      start: { type: 'string' },
      rule: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    optionsSchema,
    io,
  );
  if (!opts.ok) return opts.exit;
  const o = opts.value;
  const rules = ruleSettings(o.rule);
  const problems = ruleProblems(rules);
  if (problems.length > 0) {
    io.err(`carehub-sim routines: --rule: ${problems.join('; ')}\n`);
    return 1;
  }
  const run = (seed: number) =>
    runRoutines({
      rules,
      residents: o.residents,
      days: o.days,
      seed,
      incidents: o.incidents,
      falls: o.falls,
      startDate: o.start,
    });
  if (o.seeds) {
    const summaries = [];
    for (let seed = o.seeds[0]; seed <= o.seeds[1]; seed++) {
      const result = await run(seed);
      const summary = checkinSummary(result);
      summaries.push({ ...summary, wallMs: result.wallMs, allDetected: allDetected(result) });
      if (!o.json)
        io.err(
          `seed ${seed}: ${summary.falseAlerts} false, ${summary.prompts.sent} prompts, falls in time ${summary.falls.filter((f) => f.inTime).length}/${summary.falls.length} (${(result.wallMs / 1000).toFixed(0)} s)\n`,
        );
    }
    const verdict = studyVerdict(summaries);
    io.out(
      o.json
        ? `${JSON.stringify({ options: { ...o, seeds: o.seeds }, runs: summaries, verdict }, null, 2)}\n`
        : `Routine study: seeds ${o.seeds[0]}-${o.seeds[1]}, ${o.residents} residents × ${o.days} days each; rules: ${Object.keys(rules).length === 0 ? 'defaults' : JSON.stringify(rules)}\n\n${formatStudy(summaries)}`,
    );
    return verdict.met ? 0 : 1;
  }
  const result = await run(o.seed);
  io.out(
    o.json
      ? `${JSON.stringify({ ...(routineResultJson(result) as object), checkins: checkinSummary(result) }, null, 2)}\n`
      : formatRoutineResult(result),
  );
  return goalMet(result) && allDetected(result) ? 0 : 1;
}

/** ["inactivity.hoursDoorOnly=36"] → { inactivity: { hoursDoorOnly: 36 } } (values as JSON when they parse, else text). */
export function ruleSettings(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const keys = pair.slice(0, eq).split('.');
    const text = pair.slice(eq + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a plain string, e.g. 10:30
    }
    let node = out;
    keys.forEach((k, i) => {
      if (i === keys.length - 1) node[k] = value;
      else {
        const next = node[k];
        node[k] = next && typeof next === 'object' ? next : {};
        node = node[k] as Record<string, unknown>;
      }
    });
  }
  return out;
}

/** The hub's own schema judges the settings: every problem by its path. */
function ruleProblems(rules: Record<string, unknown>): string[] {
  const r = ruleSettingsSchema.safeParse(rules);
  return r.success ? [] : formatIssues(r.error.issues).map((p) => `${p.path}: ${p.message}`);
}
