import { type Document, isMap, isNode, isPair, isScalar, type LineCounter } from 'yaml';
import type { ConfigProblem } from './problems.js';

/** Problems that a broken structure produces further down: only the first is the person's to fix. */
const INDEPENDENT = new Set(['DUPLICATE_KEY']);

const SYNTAX_WORDS: Record<string, string> = {
  TAB_AS_INDENT: 'a tab is used to indent: YAML indents with spaces only (replace the tab with spaces)',
  BAD_INDENT:
    'the indentation does not line up: the keys of one mapping (and the items of one list) start at the same column',
  DUPLICATE_KEY: 'this key is given twice in the same mapping: keep one',
  MULTILINE_IMPLICIT_KEY: 'a key must be on one line, followed by ":" and its value',
  MISSING_CHAR: 'something is not closed: a quote, bracket or brace, or a key without ":"',
  BLOCK_AS_IMPLICIT_KEY: 'a key cannot be a mapping or a list: is a ":" missing, or the indentation off?',
};

/**
 * YAML syntax errors, each problem once: every duplicate key before the first broken structure,
 * and that first break (a tab, a bad indent, an unclosed quote); what the parser finds after it
 * follows from it and is counted, not listed.
 */
export function syntaxProblems(doc: Document, lines: LineCounter): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  let followOn = 0;
  let broken = false;
  for (const e of doc.errors) {
    const independent = INDEPENDENT.has(e.code);
    if (broken) {
      followOn++;
      continue;
    }
    const { line, col } = lines.linePos(e.pos[0]);
    const words =
      SYNTAX_WORDS[e.code] ?? (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+.*$/, '');
    out.push({ path: `line ${line}, column ${col}`, message: words, line, column: col });
    if (!independent) broken = true;
  }
  const last = out[out.length - 1];
  if (last && followOn > 0) {
    last.message += ` (${followOn} further syntax error${followOn === 1 ? '' : 's'} follow from this one: fix it and check again)`;
  }
  return out;
}

/** `homes[0].devices[1].id` → ['homes', 0, 'devices', 1, 'id']. */
export function parsePath(path: string): Array<string | number> | undefined {
  if (path === '(root)') return [];
  if (path.startsWith('$') || path.startsWith('line ')) return undefined;
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/**
 * Where in the file each problem is: the key of an unknown setting, the value of a wrong one, the
 * mapping that lacks a required one. Problems of environment variables have no place in the file.
 */
export function withPositions(problems: ConfigProblem[], doc: Document, lines: LineCounter): ConfigProblem[] {
  return problems.map((p) => {
    if (p.line !== undefined) return p;
    const path = parsePath(p.path);
    if (!path) return p;
    const offset = offsetOf(doc, path, p.message.startsWith('unknown setting'));
    if (offset === undefined) return p;
    const { line, col } = lines.linePos(offset);
    return { ...p, line, column: col };
  });
}

function offsetOf(doc: Document, path: Array<string | number>, wantKey: boolean): number | undefined {
  // The deepest node that exists on the path: a missing key points at the mapping that should hold it.
  for (let n = path.length; n >= 0; n--) {
    const head = path.slice(0, n);
    const last = head[head.length - 1];
    if ((wantKey || n < path.length) && head.length > 0 && typeof last === 'string') {
      const parent = head.length === 1 ? doc.contents : doc.getIn(head.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((i) => isPair(i) && isScalar(i.key) && i.key.value === last);
        if (pair && isNode(pair.key) && pair.key.range && (wantKey || n < path.length))
          return pair.key.range[0];
      }
    }
    const node = head.length === 0 ? doc.contents : doc.getIn(head, true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}
