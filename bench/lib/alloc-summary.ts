import { readFileSync } from 'node:fs';

/**
 * Top allocation sites of a sampling heap profile (bench/lib/alloc-probe.mjs): bytes allocated by
 * each function itself (inlined callees included, as V8 attributes them), share of all sampled.
 */
interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export function topAllocations(file: string, top = 30): { totalMB: number; sites: Array<[string, number]> } {
  const head = (JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head;
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(head);
  const sites = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMB: total / 1e6, sites: sites.map(([k, v]) => [k, (100 * v) / total]) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/lib/alloc-summary.ts FILE.heapprofile\n');
    process.exit(1);
  }
  const { totalMB, sites } = topAllocations(file);
  process.stdout.write(`${totalMB.toFixed(0)} MB sampled\n`);
  for (const [site, pct] of sites) process.stdout.write(`${pct.toFixed(1).padStart(6)} %  ${site}\n`);
}
