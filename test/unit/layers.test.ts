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
  async: 0,
  time: 0,
  text: 0,
  clock: 0,
  net: 0,
  'errors.ts': 1,
  'log.ts': 1,
  'metrics.ts': 1,
  'memory.ts': 1,
  'node-flags.ts': 1,
  'package-root.ts': 1,
  config: 2,
  i18n: 2,
  model: 3,
  protocol: 3,
  site: 4,
  store: 5,
  timers: 6,
  alerts: 7,
  rules: 7,
  auth: 7,
  reports: 7,
  notify: 8,
  homes: 8,
  core: 9,
  ingest: 10,
  timeseries: 10,
  delivery: 10,
  jobs: 10,
  cluster: 10,
  broker: 11,
  feed: 11,
  http: 12,
  'heap-governor.ts': 13,
  'main.ts': 13,
  cli: 14,
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
