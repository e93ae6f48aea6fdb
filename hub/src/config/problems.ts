import type { z } from 'zod';
import { didYouMean } from '../text/did-you-mean.js';

/**
 * One problem of a configuration. `path` and `message` are the contract every caller prints
 * (`homes[0].devices[1].kind: must be one of …`); the other fields let `check-config` say more.
 */
export interface ConfigProblem {
  path: string;
  /** A whole sentence: what is wrong, the value found, what is allowed, a likely fix. */
  message: string;
  /** 1-based position in the YAML file, when the problem came from a file. */
  line?: number;
  column?: number;
  /** The offending value as shown to people (secrets masked). */
  value?: string;
  /** What is allowed here, in words. */
  allowed?: string;
  /** A likely intended key or value. */
  didYouMean?: string;
}

type Path = readonly PropertyKey[];

/** Fields whose values are never printed, whatever is wrong with them. */
const SECRET_KEY = /secret|password|token|hash/i;
/** A value that carries a credential itself: a robot or webhook URL with its key, a URL with a password. */
const SECRET_VALUE =
  /[?&](key|access_token|token|secret|sign|signature|accesskey\w*)=|:\/\/[^/@\s]*:[^/@\s]*@/i;

export function formatPath(path: Path): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/**
 * zod issues → problems in plain words. With the validated document (`raw`) a problem shows the
 * value found; with the schema, an unknown key lists the allowed keys and the closest one. Each
 * problem is reported once: a required key reported missing because it was misspelt is folded
 * into the misspelling's "did you mean".
 */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  raw?: unknown,
  schema?: z.ZodType,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const folded = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const allowed = schema ? keysAt(schema, issue.path) : [];
    for (const key of issue.keys) {
      const guess = didYouMean(key, allowed);
      if (guess) folded.add(formatPath([...issue.path, guess]));
    }
  }
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = schema ? keysAt(schema, issue.path) : [];
      for (const key of issue.keys) {
        const guess = didYouMean(key, allowed);
        out.push(
          problem([...issue.path, key], 'unknown setting', {
            ...(allowed.length > 0 ? { allowed: `settings here: ${allowed.join(', ')}` } : {}),
            ...(guess ? { didYouMean: guess } : {}),
          }),
        );
      }
      continue;
    }
    const path = formatPath(issue.path);
    if (folded.has(path) && issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined) continue;
    out.push(describeIssue(issue, raw));
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): ConfigProblem {
  const found = valueAt(raw, issue.path);
  const present = raw !== undefined && found !== undefined;
  const secret =
    issue.path.some((p) => typeof p === 'string' && SECRET_KEY.test(p)) ||
    (typeof found === 'string' && SECRET_VALUE.test(found)) ||
    // Robot and webhook URLs carry their credentials in the URL.
    (issue.path[0] === 'notifications' && issue.path.at(-1) === 'url');
  const value = present ? shown(found, secret) : undefined;
  const extra = value !== undefined ? { value } : {};
  switch (issue.code) {
    case 'invalid_type': {
      const expected = words(issue.expected);
      if (raw !== undefined && found === undefined)
        return problem(issue.path, `missing: this setting is required (${expected})`, { allowed: expected });
      return problem(issue.path, `must be ${expected}`, { ...extra, allowed: expected });
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const guess = typeof found === 'string' ? didYouMean(found, options) : undefined;
      const allowed = options.length === 1 ? `${options[0]}` : `one of ${options.join(', ')}`;
      return problem(issue.path, `must be ${allowed}`, {
        ...extra,
        allowed,
        ...(guess ? { didYouMean: guess } : {}),
      });
    }
    case 'too_small':
    case 'too_big': {
      const allowed = bound(issue);
      return problem(issue.path, allowed, { ...extra, allowed });
    }
    case 'invalid_format': {
      const custom = !/^Invalid/.test(issue.message);
      return problem(issue.path, custom ? issue.message : `has the wrong form (${issue.format})`, extra);
    }
    default: {
      // Our own checks (custom) already speak plainly; anything else keeps zod's words.
      const tz = issue.code === 'custom' && /time zone/.test(issue.message) && typeof found === 'string';
      const guess = tz ? didYouMean(found as string, timeZones()) : undefined;
      return problem(issue.path, issue.message, { ...extra, ...(guess ? { didYouMean: guess } : {}) });
    }
  }
}

/** The whole sentence from the parts: "must be one of a, b; found "c" (did you mean "a"?)". */
function problem(
  path: Path,
  text: string,
  parts: Omit<ConfigProblem, 'path' | 'message'> = {},
): ConfigProblem {
  let message = text;
  if (parts.value !== undefined) message += `; found ${parts.value}`;
  if (parts.didYouMean !== undefined) message += ` (did you mean "${parts.didYouMean}"?)`;
  if (parts.allowed !== undefined && !text.includes(parts.allowed)) message += `; ${parts.allowed}`;
  return { path: formatPath(path), message, ...parts };
}

function words(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a text';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping (key: value lines)';
    default:
      return `a ${expected}`;
  }
}

function bound(issue: z.core.$ZodIssue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const n = String(small ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      return small ? `must be at least ${n} characters` : `must be at most ${n} characters`;
    case 'array':
    case 'set':
      return small ? `needs at least ${n} entries` : `may have at most ${n} entries`;
    default:
      if (small) return inclusive ? `must be at least ${n}` : `must be more than ${n}`;
      return inclusive ? `must be at most ${n}` : `must be less than ${n}`;
  }
}

/** A value for people: short, and never a secret. */
export function shown(value: unknown, secret: boolean): string {
  if (secret) return typeof value === 'string' ? `(hidden, ${value.length} characters)` : '(hidden)';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export function valueAt(raw: unknown, path: Path): unknown {
  let cur = raw;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The keys a mapping at `path` may have, from the schema (empty when it is not a fixed mapping). */
export function keysAt(schema: z.ZodType, path: Path): string[] {
  let cur: z.ZodType | undefined = schema;
  for (const p of [...path, undefined]) {
    // unwrap optional / default / prefault / pipe
    for (let i = 0; cur && i < 10; i++) {
      const d = defOf(cur);
      const next: z.ZodType | undefined = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
      if (!next) break;
      cur = next;
    }
    if (!cur) return [];
    if (p === undefined) break;
    const d = defOf(cur);
    if (typeof p === 'number') cur = d.element;
    else if (d.shape) cur = d.shape[String(p)];
    else if (d.valueType) cur = d.valueType;
    else return [];
  }
  const shape = cur ? defOf(cur).shape : undefined;
  return shape ? Object.keys(shape) : [];
}

let zones: string[] | undefined;
function timeZones(): string[] {
  zones ??= Intl.supportedValuesOf('timeZone');
  return zones;
}
