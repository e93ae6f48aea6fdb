import { formatDuration } from '../util/duration.js';
import { formatLocal, formatLocalTime } from '../util/local-time.js';
import { table } from '../util/table.js';
import type { Expectation } from './load.js';
import type { ScenarioResult } from './run.js';
import type { ExpectationResult, ObservedAlert } from './verdict.js';

const RESULT_WORDS: Record<ExpectationResult['status'], string> = {
  matched: 'ok',
  missing: 'MISSING',
  outside_window: 'OUTSIDE WINDOW',
  wrong_occurrences: 'WRONG OCCURRENCES',
  wrong_cancelled: 'WRONG CANCELLED FLAG',
};

function expectedText(e: Expectation): string {
  const count = e.occurrences === undefined ? '' : ` ×${e.occurrences}`;
  const cancelled = e.cancelled === undefined ? '' : e.cancelled ? ' cancelled' : ' not cancelled';
  return `${e.kind} ${e.home}${e.device ? ` (${e.device})` : ''}${count}${cancelled}`;
}

function windowText(e: Expectation): string {
  const from = e.cause ?? 'start';
  return e.within === undefined ? `after ${from}` : `≤ ${formatDuration(e.within)} after ${from}`;
}

function alertText(a: ObservedAlert, tz: string, start: number): string {
  const day = Math.floor((a.raisedAtMs - start) / 86_400_000);
  const when = day > 0 ? formatLocal(a.raisedAtMs, tz) : formatLocalTime(a.raisedAtMs, tz);
  const cancelled = a.cancelledByResident ? ' cancelled' : '';
  return `${a.kind} ${a.homeId}${a.deviceId ? ` (${a.deviceId})` : ''} at ${when} ×${a.occurrences}${cancelled}`;
}

/** Expected vs observed, as a table, and the verdict. */
export function formatScenarioResult(r: ScenarioResult, verbose = false): string {
  const lines: string[] = [];
  lines.push(`Scenario: ${r.name}`);
  lines.push(
    `  ${r.file}; hub ${r.hub}; drill clock ${formatLocal(r.start, r.tz)} → ${formatLocal(r.end, r.tz)} ${r.tz} (${formatDuration(r.end - r.start)} in ${(r.wallMs / 1000).toFixed(1)} s)`,
  );
  lines.push(`  ${r.steps.length} steps played, ${r.heartbeatRounds} heartbeat rounds`);
  if (verbose) {
    for (const s of r.steps) {
      lines.push(`    ${formatLocal(s.at, r.tz)}  ${s.what}${s.error ? `  FAILED: ${s.error}` : ''}`);
    }
  }
  if (r.error) lines.push(`  PLAY STOPPED: ${r.error}`);
  lines.push('');
  const v = r.verdict;
  if (v.expectations.length === 0) {
    lines.push('Expected: no alert at all (a normal day).');
  } else {
    lines.push('Expected vs observed:');
    lines.push(
      table(
        ['expected', 'window', 'observed', 'delay', 'result'],
        v.expectations.map((x) => [
          expectedText(x.expect),
          windowText(x.expect),
          x.alert ? alertText(x.alert, r.tz, r.start) : '-',
          x.delayMs === undefined ? '-' : formatDuration(x.delayMs),
          RESULT_WORDS[x.status],
        ]),
      ),
    );
  }
  lines.push('');
  if (v.unexpected.length === 0) {
    lines.push('Unexpected alerts: none');
  } else {
    lines.push(`Unexpected alerts (${v.unexpected.length}), each one a false alert of this drill:`);
    for (const a of v.unexpected) lines.push(`  ${alertText(a, r.tz, r.start)}  [${a.id}]`);
  }
  const matched = v.expectations.filter((x) => x.status === 'matched').length;
  lines.push('');
  const counts =
    v.expectations.length === 0
      ? `no alert expected, ${v.unexpected.length} raised`
      : `${matched}/${v.expectations.length} expected alerts matched, ${v.unexpected.length} unexpected`;
  lines.push(`${r.ok ? 'PASS' : 'FAIL'}: ${counts}${r.error ? ', play stopped early' : ''}`);
  return `${lines.join('\n')}\n`;
}

/** The machine-readable result (--json). */
export function scenarioResultJson(r: ScenarioResult): unknown {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    ok: r.ok,
    name: r.name,
    file: r.file,
    hub: r.hub,
    timezone: r.tz,
    start: iso(r.start),
    end: iso(r.end),
    wallMs: r.wallMs,
    heartbeatRounds: r.heartbeatRounds,
    steps: r.steps.map((s) => ({
      index: s.index,
      at: iso(s.at),
      what: s.what,
      ...(s.error ? { error: s.error } : {}),
    })),
    expectations: r.verdict.expectations.map((x) => ({
      expect: x.expect,
      window: { from: iso(x.from), to: iso(x.to) },
      status: x.status,
      alert: x.alert ?? null,
      delayMs: x.delayMs ?? null,
    })),
    unexpected: r.verdict.unexpected,
    ...(r.error ? { error: r.error } : {}),
  };
}
