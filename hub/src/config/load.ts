import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ErrorCodes, HubError } from '../errors.js';
import { applyEnvOverrides } from './env.js';
import { configSchema, type HubConfig } from './schema.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

/** Parse and validate a configuration object; throws HUB_ERR_CONFIG_INVALID listing every problem by path. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): Readonly<HubConfig> {
  const withEnv = applyEnvOverrides(raw, env);
  const result = configSchema.safeParse(withEnv.value);
  const problems = [...withEnv.problems];
  if (!result.success) problems.push(...formatIssues(result.error.issues));
  if (problems.length > 0 || !result.success) {
    throw new HubError(ErrorCodes.CONFIG_INVALID, `configuration has ${problems.length} problem(s)`, {
      details: problems,
    });
  }
  return deepFreeze(result.data);
}

/** Read a YAML configuration file; every problem (syntax or schema) is reported by path. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = {}): Readonly<HubConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HubError(
      ErrorCodes.CONFIG_UNREADABLE,
      `cannot read configuration file ${file}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((e) => ({
      path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(yaml)',
      message: e.message.split('\n')[0] ?? e.message,
    }));
    throw new HubError(ErrorCodes.CONFIG_INVALID, `configuration file ${file} is not valid YAML`, {
      details: problems,
    });
  }
  return parseConfig(doc.toJS(), env);
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: formatPath([...issue.path, key]), message: 'unknown setting' });
      continue;
    }
    out.push({ path: formatPath(issue.path), message: issue.message });
  }
  return out;
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

export function problemsOf(err: unknown): ConfigProblem[] {
  if (err instanceof HubError && Array.isArray(err.details)) return err.details as ConfigProblem[];
  return [];
}

/**
 * Freeze the validated configuration in place. Equal strings share one copy: the parser makes a
 * new string for every value, and a big site repeats many (device kinds, grids, time zones, hashes).
 */
function deepFreeze<T>(value: T, strings = new Map<string, string>()): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (typeof v !== 'string') continue;
      const shared = strings.get(v);
      if (shared === undefined) strings.set(v, v);
      else obj[key] = shared;
    }
    Object.freeze(obj);
    for (const v of Object.values(obj)) deepFreeze(v, strings);
  }
  return value;
}
