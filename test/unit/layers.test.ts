import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The hub's folders form layers (docs/architecture.md, "Folders"): a module imports only from its
 * own folder or from a lower layer, folders of one layer do not import each other, and no import
 * cycle exists at all. SQL lives in store/ only. This is the project's equivalent of
 * `madge --circular` plus a layer rule.
 */
const SRC = join(import.meta.dirname, '..', '..', 'hub', 'src');

/** Lower number = lower layer. A top-level file counts as a folder of its own name. */
const LAYER: Record<string, number> = {
  'errors.ts': 0,
  'log.ts': 0,
  'metrics.ts': 0,
  'memory.ts': 0,
  'node-flags.ts': 0,
  'package-root.ts': 0,
  async: 0,
  time: 0,
  clock: 0,
  net: 0,
  config: 1,
  i18n: 1,
  model: 2,
  protocol: 2,
  site: 3,
  store: 4,
  timers: 5,
  alerts: 6,
  rules: 6,
  auth: 6,
  reports: 6,
  notify: 7,
  homes: 7,
  core: 8,
  ingest: 9,
  timeseries: 9,
  delivery: 9,
  jobs: 9,
  broker: 10,
  feed: 10,
  http: 11,
  'heap-governor.ts': 12,
  'main.ts': 12,
  cli: 13,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const files = sources(SRC);
const folderOf = (file: string) => relative(SRC, file).split('/')[0] as string;

/** Relative imports of a file (static, dynamic, and `export … from`), resolved to .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const spec = m[1] as string;
    out.push(normalize(join(dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('module layers', () => {
  it('every folder and top-level file of hub/src has a layer', () => {
    const unknown = [...new Set(files.map(folderOf))].filter((f) => LAYER[f] === undefined);
    expect(unknown).toEqual([]);
  });

  it('imports go to the same folder or down the layers, never across one layer or up', () => {
    const problems: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (to === from) continue;
        const a = LAYER[from] as number;
        const b = LAYER[to] as number;
        if (b >= a)
          problems.push(`${relative(SRC, file)} → ${relative(SRC, target)} (${from} ${a} → ${to} ${b})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue;
        const s = state.get(next);
        if (s === 'open')
          cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(SRC, f)).join(' → '));
        else if (s === undefined) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('keeps SQL in store/: no other module prepares or executes a statement', () => {
    const sql = /\.(prepare|pragma)\s*[<(]|\bdb\.exec\(|\.transaction\(/;
    const outside = files.filter((f) => folderOf(f) !== 'store' && sql.test(readFileSync(f, 'utf8')));
    expect(outside.map((f) => relative(SRC, f))).toEqual([]);
  });
});
