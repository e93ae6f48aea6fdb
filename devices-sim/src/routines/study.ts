import { formatDuration } from '../util/duration.js';
import { table } from '../util/table.js';
import {
  type CheckinRunSummary,
  FALSE_PER_RESIDENT_DAY_GOAL,
  type FallKind,
  type HomeKind,
  PROMPTS_PER_RESIDENT_DAY_GOAL,
} from './checkin-summary.js';

/** Nearest-rank percentile. */
function pct(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1];
}

const dur = (ms: number | undefined) =>
  ms === undefined ? '-' : formatDuration(Math.round(ms / 60_000) * 60_000);
const per90 = (n: number, days: number) => (days > 0 ? ((n / days) * 90).toFixed(2) : '-');

export interface StudyVerdict {
  falseEverySeed: boolean;
  promptsPerResidentDay: number;
  promptsGoal: boolean;
  allFallsInTime: boolean;
  met: boolean;
}

export function studyVerdict(runs: readonly CheckinRunSummary[]): StudyVerdict {
  const days = runs.reduce((n, r) => n + r.residentDays, 0);
  const prompts = runs.reduce((n, r) => n + r.prompts.sent, 0);
  const promptsPerResidentDay = days > 0 ? prompts / days : 0;
  const falseEverySeed = runs.every((r) => r.falseGoalMet);
  const promptsGoal = promptsPerResidentDay <= PROMPTS_PER_RESIDENT_DAY_GOAL;
  const allFallsInTime = runs.every((r) => r.fallsInTime);
  return {
    falseEverySeed,
    promptsPerResidentDay,
    promptsGoal,
    allFallsInTime,
    met: falseEverySeed && promptsGoal && allFallsInTime,
  };
}

/** Per seed, per home kind and per kind of fall: false alerts, prompts, answers, fall detection delays. */
export function formatStudy(runs: readonly CheckinRunSummary[]): string {
  const lines: string[] = [];
  lines.push(
    'Per seed (resident-days lived before any fall; prompts from the hub, heard/late from the residents):',
    table(
      [
        'seed',
        'resident-days',
        'false',
        'per 90',
        'prompts',
        'per res-day',
        'answered',
        'by activity',
        'missed',
        'capped',
        'not answered: out/fallen/not heard',
        'late',
        'falls in time',
      ],
      runs.map((r) => [
        String(r.seed),
        r.residentDays.toFixed(1),
        String(r.falseAlerts),
        per90(r.falseAlerts, r.residentDays),
        String(r.prompts.sent),
        (r.residentDays > 0 ? r.prompts.sent / r.residentDays : 0).toFixed(3),
        String(r.prompts.answered),
        String(r.prompts.activity),
        String(r.prompts.missed),
        String(r.prompts.capped),
        `${r.heard.out}/${r.heard.fallen}/${r.heard.notHeard}`,
        String(r.heard.late),
        `${r.falls.filter((f) => f.inTime).length}/${r.falls.length}`,
      ]),
    ),
    '',
  );
  const kinds: HomeKind[] = ['door-only', 'motion'];
  lines.push(
    'Per home kind (all seeds):',
    table(
      [
        'home kind',
        'homes',
        'resident-days',
        'false',
        'per 90',
        'prompts',
        'per res-day',
        'answered',
        'missed',
      ],
      kinds.map((k) => {
        const s = runs.map((r) => r.byKind[k]);
        const sum = (f: (x: (typeof s)[number]) => number) => s.reduce((n, x) => n + f(x), 0);
        const days = sum((x) => x.residentDays);
        return [
          k,
          String(sum((x) => x.homes)),
          days.toFixed(1),
          String(sum((x) => x.falseAlerts)),
          per90(
            sum((x) => x.falseAlerts),
            days,
          ),
          String(sum((x) => x.prompts)),
          (days > 0 ? sum((x) => x.prompts) / days : 0).toFixed(3),
          String(sum((x) => x.answered)),
          String(sum((x) => x.missed)),
        ];
      }),
    ),
    '',
  );
  const fallKinds: FallKind[] = ['door-only', 'motion, by day', 'motion, at night'];
  const falls = runs.flatMap((r) => r.falls);
  lines.push(
    'Falls (detection delay from the fall):',
    table(
      ['fall', 'falls', 'found in time', 'delay p50', 'delay max', 'limit'],
      fallKinds.map((k) => {
        const mine = falls.filter((f) => f.kind === k);
        const delays = mine.flatMap((f) => (f.delayMs === null ? [] : [f.delayMs]));
        return [
          k,
          String(mine.length),
          String(mine.filter((f) => f.inTime).length),
          dur(pct(delays, 50)),
          dur(delays.length > 0 ? Math.max(...delays) : undefined),
          k === 'door-only' ? '24h30m' : k === 'motion, by day' ? '12h30m' : 'the morning check',
        ];
      }),
    ),
    '',
  );
  const v = studyVerdict(runs);
  lines.push(
    `False alerts at most 1 per 90 resident-days on every seed (${(FALSE_PER_RESIDENT_DAY_GOAL * 90).toFixed(0)} per 90): ${v.falseEverySeed ? 'MET' : 'NOT MET'}`,
    `Prompts per resident-day on average ${v.promptsPerResidentDay.toFixed(3)} (goal at most ${PROMPTS_PER_RESIDENT_DAY_GOAL}): ${v.promptsGoal ? 'MET' : 'NOT MET'}`,
    `Every fall found in time: ${v.allFallsInTime ? 'MET' : 'NOT MET'}`,
  );
  for (const f of falls.filter((x) => !x.inTime))
    lines.push(
      `  late or missed: ${f.kind} fall in ${f.homeId} at ${new Date(f.at).toISOString()}: ${f.delayMs === null ? 'MISSED' : dur(f.delayMs)} (limit ${dur(f.limitMs)})`,
    );
  return `${lines.join('\n')}\n`;
}
