import type { FaultResult } from './run.js';

export function formatFaultResult(r: FaultResult): string {
  const lines = [`Fault drill against ${r.hub} hub (${(r.wallMs / 1000).toFixed(1)} s)`];
  for (const c of r.cases) {
    const ok = !c.error && c.checks.every((k) => k.ok);
    lines.push('', `${ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.what}`);
    for (const k of c.checks) lines.push(`       ${k.ok ? '✓' : '✗'} ${k.what} (${k.observed})`);
    if (c.error) lines.push(`       ✗ stopped: ${c.error}`);
  }
  lines.push('', 'Afterwards:');
  for (const k of r.final) lines.push(`  ${k.ok ? '✓' : '✗'} ${k.what} (${k.observed})`);
  lines.push('', r.ok ? 'PASS: the hub stayed healthy and raised every alert exactly once' : 'FAIL');
  return `${lines.join('\n')}\n`;
}
