import { z } from 'zod';
import { homeRuleOverridesSchema } from '../config/rules-schema.js';
import {
  contactSchema,
  DEVICE_KINDS,
  deviceSchema,
  gridSchema,
  idSchema,
  residentSchema,
  staffSchema,
  timezoneSchema,
} from '../config/schema.js';
import { ErrorCodes } from '../errors.js';
import { type Problem, problem } from './problems.js';

/** What the admin API and the CSV import accept, field by field: the configuration file's own rules. */

/** Staff passwords set through the API: long enough to resist guessing (they are scrypt-hashed). */
export const MIN_PASSWORD = 10;
const passwordSchema = z.string().min(MIN_PASSWORD).max(256);

/** A home has few people: bounds what one request can make the hub keep. */
const MAX_PEOPLE = 20;

const homeFields = {
  address: z.string().min(1).max(500),
  grid: idSchema,
  timezone: timezoneSchema.optional(),
  residents: z.array(residentSchema).max(MAX_PEOPLE),
  contacts: z.array(contactSchema).max(MAX_PEOPLE),
  rules: homeRuleOverridesSchema.optional(),
};

export const homeCreateSchema = z.strictObject({
  id: idSchema,
  ...homeFields,
  residents: homeFields.residents.default([]),
  contacts: homeFields.contacts.default([]),
});

/** Every field optional; `null` removes an optional one (timezone, rules). */
export const homePatchSchema = z.strictObject({
  address: homeFields.address.optional(),
  grid: homeFields.grid.optional(),
  timezone: timezoneSchema.nullable().optional(),
  residents: homeFields.residents.optional(),
  contacts: homeFields.contacts.optional(),
  rules: homeRuleOverridesSchema.nullable().optional(),
});

const zigbeeSchema = deviceSchema.shape.zigbee.unwrap();
const baseTopicSchema = deviceSchema.shape.baseTopic.unwrap();

export const deviceCreateSchema = z
  .strictObject({
    id: idSchema,
    kind: z.enum(DEVICE_KINDS),
    label: z.string().max(200).optional(),
    zigbee: zigbeeSchema.optional(),
    baseTopic: baseTopicSchema.optional(),
  })
  .superRefine(deviceShape);

export const devicePatchSchema = z
  .strictObject({
    kind: z.enum(DEVICE_KINDS).optional(),
    label: z.string().max(200).nullable().optional(),
    zigbee: zigbeeSchema.nullable().optional(),
    baseTopic: baseTopicSchema.nullable().optional(),
  })
  .superRefine(deviceShape);

/** A gateway has a base topic and no gateway of its own; other devices the other way round. */
function deviceShape(
  d: { kind?: string | undefined; zigbee?: unknown; baseTopic?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (d.kind === 'gateway' && d.zigbee)
    ctx.addIssue({ code: 'custom', path: ['zigbee'], message: 'a gateway is not paired with a gateway' });
  if (d.kind !== undefined && d.kind !== 'gateway' && d.baseTopic)
    ctx.addIssue({ code: 'custom', path: ['baseTopic'], message: 'only a gateway has a base topic' });
}

export const staffCreateSchema = z.strictObject({
  id: idSchema,
  name: staffSchema.shape.name,
  role: staffSchema.shape.role,
  grids: z.array(idSchema).max(200).default([]),
  password: passwordSchema,
  locale: z.string().min(2).max(35).optional(),
});

export const staffPatchSchema = z.strictObject({
  name: staffSchema.shape.name.optional(),
  role: staffSchema.shape.role.optional(),
  grids: z.array(idSchema).max(200).optional(),
  password: passwordSchema.optional(),
  locale: z.string().min(2).max(35).nullable().optional(),
});

export const gridCreateSchema = gridSchema;
export const gridPatchSchema = z.strictObject({ name: gridSchema.shape.name });

/**
 * Zod's findings as problems with a message key (hub/locales `problem.*`), so a form and the API
 * show the same words in the staff member's language. `prefix`: where the input sits in a bigger one.
 */
export function inputProblems(issues: readonly z.core.$ZodIssue[], prefix = ''): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues.slice(0, 50)) {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, 10))
        out.push(problem(ErrorCodes.BAD_REQUEST, path ? `${path}.${key}` : key, 'problem.unknown_field'));
      continue;
    }
    const [key, params] = keyOf(issue, path);
    out.push(problem(ErrorCodes.BAD_REQUEST, path, key, params));
  }
  return out;
}

function keyOf(issue: z.core.$ZodIssue, path: string): [string, Record<string, string>] {
  const leaf = path.split('.').pop() ?? '';
  const msg = issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return ['problem.required', {}];
      if (issue.expected === 'number' || issue.expected === 'int') return ['problem.not_a_number', {}];
      if (issue.expected === 'boolean') return ['problem.not_a_boolean', {}];
      return ['problem.invalid', { detail: `expected ${issue.expected}` }];
    case 'too_big':
      if (issue.origin === 'string') return ['problem.too_long', { max: String(issue.maximum) }];
      if (issue.origin === 'array') return ['problem.too_many', { max: String(issue.maximum) }];
      return ['problem.at_most', { max: String(issue.maximum) }];
    case 'too_small':
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1
          ? ['problem.required', {}]
          : ['problem.too_short', { min: String(issue.minimum) }];
      return ['problem.at_least', { min: String(issue.minimum) }];
    case 'invalid_value':
      return ['problem.one_of', { values: issue.values.map(String).join(', ') }];
    case 'invalid_format':
      if (issue.format === 'email') return ['problem.bad_email', {}];
      if (leaf === 'phone') return ['problem.bad_phone', {}];
      if (leaf === 'language') return ['problem.bad_language', {}];
      if (/1-64 characters/.test(msg)) return ['problem.bad_id', {}];
      return ['problem.invalid', { detail: msg }];
    default:
      if (leaf === 'timezone') return ['problem.bad_timezone', {}];
      return ['problem.invalid', { detail: msg }];
  }
}
