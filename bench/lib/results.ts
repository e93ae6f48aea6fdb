import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Machine } from './machine.js';
import { fmt } from './stats.js';

export interface Figure {
  scenario: string;
  name: string;
  unit: string;
  hub: number | string | null;
  /** The same figure for the reference, measured in the same run. */
  reference: number | string | null;
  referenceName: string;
  /** hub / reference where that means something. */
  ratio?: number | null;
  target?: string;
  met?: boolean | null;
  note?: string;
}

export interface Results {
  date: string;
  mode: 'quick' | 'full';
  machine: Machine;
  durationSeconds: number;
  figures: Figure[];
  /** Raw measurements per scenario (percentile sets, per-step tables, errors). */
  details: Record<string, unknown>;
  notes: string[];
  /** Runs that contributed figures (several when scenarios were re-run with --merge). */
  runs?: Array<{
    date: string;
    mode: 'quick' | 'full';
    scenarios: string[];
    durationSeconds: number;
    loadAverageAtStart: number[];
  }>;
}

const ORDER = ['1', '2', '3', '4', '4c', '5', '6', '7', '8', '9'];

/**
 * Replace the figures of the scenarios just run in an earlier results file and keep the others, so
 * one file holds a whole run after some scenarios were run again; `runs` says which came from when.
 */
export function mergeResults(old: Results, fresh: Results, scenarios: readonly string[]): Results {
  const figures = [...old.figures.filter((f) => !scenarios.includes(f.scenario)), ...fresh.figures].sort(
    (a, b) => ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario),
  );
  const earlier = old.runs ?? [
    {
      date: old.date,
      mode: old.mode,
      scenarios: ORDER,
      durationSeconds: old.durationSeconds,
      loadAverageAtStart: old.machine.loadAverageAtStart,
    },
  ];
  return {
    ...fresh,
    mode: old.mode === fresh.mode ? fresh.mode : 'quick',
    durationSeconds: old.durationSeconds + fresh.durationSeconds,
    figures,
    details: { ...old.details, ...fresh.details },
    notes: [...new Set([...old.notes, ...fresh.notes])],
    runs: [...earlier, ...(fresh.runs ?? [])],
  };
}

function cell(v: number | string | null | undefined, digits = 1): string {
  if (v === null || v === undefined) return '-';
  return typeof v === 'number' ? fmt(v, digits) : v;
}

/** The console table (and the same rows as Markdown for docs/performance.md). */
export function table(figures: readonly Figure[], markdown = false): string {
  const head = ['#', 'figure', 'unit', 'hub', 'reference', 'ref.', 'hub/ref', 'target', 'met'];
  const rows = figures.map((f) => [
    f.scenario,
    f.name,
    f.unit,
    cell(f.hub),
    cell(f.reference),
    f.referenceName,
    f.ratio === undefined || f.ratio === null ? '' : `${fmt(f.ratio, 2)}x`,
    f.target ?? '',
    f.met === undefined || f.met === null ? '' : f.met ? 'yes' : 'NO',
  ]);
  if (markdown) {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [
      `| ${head.join(' | ')} |`,
      `|${head.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    ].join('\n');
  }
  const widths = head.map((h, i) =>
    Math.min(48, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
  );
  const line = (r: string[]) => r.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i] ?? 0)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function writeResults(file: string, results: Results): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
