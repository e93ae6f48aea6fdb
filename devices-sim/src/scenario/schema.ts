import { z } from 'zod';
import { ALERT_KINDS } from '../../../hub/src/model/alert.js';
import { DEVICE_ACTIONS } from '../drill/actions.js';
import { durationSchema } from '../util/duration.js';

const stepId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$/;

/** `at`: a local time "23:05" (the next such time at or after the previous step) or a local date-time. */
const atSchema = z
  .string()
  .refine(
    (s) => HHMM.test(s) || LOCAL_DATE_TIME.test(s),
    'must be a local time "HH:MM" or "YYYY-MM-DD HH:MM"',
  );

const timing = {
  at: atSchema.optional(),
  /** Time after the previous step (or after the start for the first). */
  after: durationSchema.optional(),
};

function exactlyOneTiming(
  v: { at?: unknown; after?: unknown },
  ctx: z.RefinementCtx,
  optional = false,
): void {
  if (v.at !== undefined && v.after !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['after'], message: 'give either at or after, not both' });
  } else if (!optional && v.at === undefined && v.after === undefined) {
    ctx.addIssue({ code: 'custom', path: ['at'], message: 'give at ("23:05") or after (10m)' });
  }
}

export const stepSchema = z
  .strictObject({
    /** Names the step, so an expectation can measure `within` from it (`cause: fire`). */
    id: stepId.optional(),
    ...timing,
    device: z.string().min(1).optional(),
    action: z.enum(DEVICE_ACTIONS).optional(),
    /** Battery level for `action: battery`. */
    level: z.number().int().min(0).max(100).optional(),
    /** Home mode change through POST /api/v1/homes/{home}/mode. */
    mode: z.enum(['home', 'away', 'maintenance']).optional(),
    home: z.string().min(1).optional(),
    /** With `mode`: the mode ends by itself after this long. */
    for: durationSchema.optional(),
    note: z.string().max(500).optional(),
  })
  .superRefine((s, ctx) => {
    exactlyOneTiming(s, ctx);
    const deviceStep = s.device !== undefined || s.action !== undefined;
    const modeStep = s.mode !== undefined || s.home !== undefined;
    if (deviceStep && modeStep) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: 'a step either acts as a device or sets a mode, not both',
      });
      return;
    }
    if (deviceStep) {
      if (s.device === undefined)
        ctx.addIssue({ code: 'custom', path: ['device'], message: 'which device? (device: h1-sos)' });
      if (s.action === undefined)
        ctx.addIssue({ code: 'custom', path: ['action'], message: 'what does the device do?' });
      if (s.action === 'battery' && s.level === undefined) {
        ctx.addIssue({ code: 'custom', path: ['level'], message: 'action battery needs a level (0-100)' });
      }
    }
    if (s.level !== undefined && s.action !== 'battery') {
      ctx.addIssue({ code: 'custom', path: ['level'], message: 'level goes with action: battery' });
    }
    if (modeStep) {
      if (s.mode === undefined)
        ctx.addIssue({ code: 'custom', path: ['mode'], message: 'which mode? (home, away, maintenance)' });
      if (s.home === undefined)
        ctx.addIssue({ code: 'custom', path: ['home'], message: 'which home? (home: h2)' });
    }
    if (s.for !== undefined && s.mode === undefined) {
      ctx.addIssue({ code: 'custom', path: ['for'], message: 'for goes with mode' });
    }
  });

export const expectationSchema = z
  .strictObject({
    /** A normal day: no alert at all. Must be the only expectation. */
    none: z.literal(true).optional(),
    kind: z.enum(ALERT_KINDS).optional(),
    home: z.string().min(1).optional(),
    device: z.string().min(1).optional(),
    /** Raised at most this long after the cause step (or the start). */
    within: durationSchema.optional(),
    /** The step (by id) that should cause it; default: the start. */
    cause: stepId.optional(),
    /** The alert's occurrence count at the end (merged repeats). */
    occurrences: z.number().int().min(1).optional(),
    /** The resident cancelled on the device (sos.cancelled seen); the alert still stands. */
    cancelled: z.boolean().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.none === true) {
      for (const key of ['kind', 'home', 'device', 'within', 'cause', 'occurrences', 'cancelled'] as const) {
        if (e[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: 'none: true stands alone' });
      }
      return;
    }
    if (e.kind === undefined)
      ctx.addIssue({ code: 'custom', path: ['kind'], message: 'which alert kind? (or none: true)' });
    if (e.home === undefined) ctx.addIssue({ code: 'custom', path: ['home'], message: 'which home?' });
  });

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(4000).optional(),
  /** The site configuration: a path (relative to the scenario file) or the configuration itself. */
  config: z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
    error: 'must be a path to a site configuration or the configuration itself',
  }),
  /** Local date-time in the site's zone where the drill clock starts ("2026-11-26 18:00"). */
  start: z
    .string()
    .refine((s) => LOCAL_DATE_TIME.test(s), 'must be a local date-time "YYYY-MM-DD HH:MM"')
    .optional(),
  /** Healthy devices check in this often (absent: no heartbeats after the first). */
  heartbeats: durationSchema.refine((ms) => ms >= 60_000, 'heartbeats must be at least 1m apart').optional(),
  timeline: z.array(stepSchema).default([]),
  /** Where the drill ends: `after` the last step, or `at` a local time after it. Default: long enough for every expectation. */
  end: z
    .strictObject(timing)
    .superRefine((v, ctx) => exactlyOneTiming(v, ctx))
    .optional(),
  expect: z.array(expectationSchema).min(1, 'list the expected alerts, or - none: true for a normal day'),
});

export type ScenarioInput = z.output<typeof scenarioSchema>;
export type StepInput = z.output<typeof stepSchema>;
export type ExpectationInput = z.output<typeof expectationSchema>;
