import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  ms: number;
  pct: number;
}

/** Top self-time functions of a V8 .cpuprofile (node --cpu-prof), idle excluded from the percentages. */
export function topSelf(
  file: string,
  top = 25,
  root = process.cwd(),
): { busyMs: number; idleMs: number; top: SelfTime[]; byPackage: SelfTime[] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  });
  const agg = new Map<string, number>();
  const pkg = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = url ? relative(root, url.replace(/^file:\/\//, '')) : '';
    const key = `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
    const p = m
      ? m[1]
      : where.startsWith('dist/') || where.startsWith('hub/')
        ? where.split('/').slice(0, 4).join('/')
        : where.startsWith('node:')
          ? 'node:internal'
          : functionName.startsWith('(')
            ? functionName
            : 'other';
    pkg.set(p ?? 'other', (pkg.get(p ?? 'other') ?? 0) + us);
  }
  const list = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({
        fn,
        ms: Math.round(us / 1000),
        pct: Math.round((1000 * us) / Math.max(1, busy)) / 10,
      }));
  return {
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    top: list(agg),
    byPackage: list(pkg),
  };
}

// CLI: node --import tsx bench/lib/profile-summary.ts DIR_OR_FILE [top]
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const target = process.argv[2] ?? '.';
  const files = target.endsWith('.cpuprofile')
    ? [target]
    : readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f));
  for (const f of files) {
    const r = topSelf(f, Number(process.argv[3] ?? 30));
    process.stdout.write(`${f}: busy ${r.busyMs} ms, idle ${r.idleMs} ms\n`);
    for (const t of r.top)
      process.stdout.write(`  ${String(t.pct).padStart(5)}%  ${String(t.ms).padStart(7)} ms  ${t.fn}\n`);
    process.stdout.write('  by package:\n');
    for (const t of r.byPackage)
      process.stdout.write(`  ${String(t.pct).padStart(5)}%  ${String(t.ms).padStart(7)} ms  ${t.fn}\n`);
  }
}
