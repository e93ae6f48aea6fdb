import { readFileSync } from 'node:fs';
import { type ConfigProblem, problemsOf } from '../config/load.js';

/**
 * A refused configuration for a person at a terminal: each problem once, as `file:line:column`
 * (editors jump there), its path and sentence, and the line of the file with a caret under the spot.
 */
export function describeConfigError(file: string, err: unknown): string {
  const problems = problemsOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  if (problems.length === 0) return `${file}: ${msg}\n`;
  const source = readLines(file);
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const head = /not valid YAML/.test(msg) ? `${file}: not valid YAML (${count})` : `${file}: ${count}`;
  // In file order (settings from the environment first): the way a person goes through the file.
  const ordered = [...problems].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  return `${head}\n${ordered.map((p) => describe(file, p, source)).join('')}`;
}

function describe(file: string, p: ConfigProblem, source: string[] | undefined): string {
  const where = p.line === undefined ? '' : `${file}:${p.line}:${p.column ?? 1}: `;
  const path = p.path.startsWith('line ') ? '' : `${p.path}: `;
  let text = `  ${where}${path}${p.message}\n`;
  const line = p.line === undefined ? undefined : source?.[p.line - 1];
  if (line !== undefined && p.line !== undefined) {
    const number = String(p.line).padStart(5);
    const caret = `${' '.repeat(Math.max(0, (p.column ?? 1) - 1))}^`;
    // Tabs shown as "→", so the caret lines up and the tab is visible.
    text += `    ${number} | ${hideSecrets(line).replace(/\t/g, '→')}\n    ${' '.repeat(5)} | ${caret}\n`;
  }
  return text;
}

function readLines(file: string): string[] | undefined {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/);
  } catch {
    return undefined;
  }
}

/** A secret's value never reaches the terminal, even as part of the quoted line (misspelt keys too). */
export function hideSecrets(line: string): string {
  const hidden = line.replace(
    /(\b\w*(?:secret|password|token|hash)\w*\s*:\s*)("[^"]*"?|'[^']*'?|[^,}\s#]+)/gi,
    '$1(hidden)',
  );
  // A comment beside a secret ("# old: …") is not shown either.
  return hidden === line ? line : hidden.replace(/\s+#.*$/, '');
}
