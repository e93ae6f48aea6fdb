import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ErrorCodes, HubError } from '../errors.js';
import { applyEnvOverrides } from './env.js';
import { type ConfigProblem, problemsFromIssues } from './problems.js';
import { configSchema, type HubConfig } from './schema.js';
import { syntaxProblems, withPositions } from './yaml-positions.js';

export type { ConfigProblem } from './problems.js';
export { formatPath } from './problems.js';

/** Parse and validate a configuration object; throws HUB_ERR_CONFIG_INVALID listing every problem by path. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): Readonly<HubConfig> {
  const withEnv = applyEnvOverrides(raw, env);
  const result = configSchema.safeParse(withEnv.value);
  const problems = [...withEnv.problems];
  if (!result.success) problems.push(...problemsFromIssues(result.error.issues, withEnv.value, configSchema));
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
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new HubError(ErrorCodes.CONFIG_INVALID, `configuration file ${file} is not valid YAML`, {
      details: syntaxProblems(doc, lines),
    });
  }
  try {
    return parseConfig(doc.toJS(), env);
  } catch (err) {
    // The same problems, each with its line and column in the file.
    if (err instanceof HubError && err.code === ErrorCodes.CONFIG_INVALID && Array.isArray(err.details)) {
      throw new HubError(ErrorCodes.CONFIG_INVALID, err.message, {
        details: withPositions(err.details as ConfigProblem[], doc, lines),
      });
    }
    throw err;
  }
}

/** zod issues → problems by path, in plain words (without a document: no values, no positions). */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return problemsFromIssues(issues);
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
