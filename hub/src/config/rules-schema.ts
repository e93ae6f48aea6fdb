import { z } from 'zod';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (24 h)');

/** Every rule setting, with the defaults of DESIGN.md (telecare practice). Site level. */
export const ruleSettingsSchema = z.strictObject({
  nightWindow: z.strictObject({ start: hhmm.default('22:00'), end: hhmm.default('06:00') }).prefault({}),
  nightExit: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Door opened in the night window and not closed within this many minutes. */
      openMinutes: z.number().min(1).max(240).default(10),
      /** With a motion sensor: door opened and closed, then no movement inside for this long. */
      noReturnMinutes: z.number().min(5).max(480).default(30),
    })
    .prefault({}),
  doorLeftOpen: z
    .strictObject({ enabled: z.boolean().default(true), minutes: z.number().min(1).max(1440).default(10) })
    .prefault({}),
  inactivity: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Homes with a motion sensor. */
      hoursWithMotion: z.number().min(1).max(72).default(12),
      /** Door-only homes: a door sensor cannot tell someone resting at home from a fall. */
      hoursDoorOnly: z.number().min(1).max(168).default(24),
      /** With a motion sensor: alert when nothing moved between the end of the night window and this time. */
      morningCheck: z.union([hhmm, z.literal(false)]).default('10:00'),
    })
    .prefault({}),
  /**
   * Ask before alarming (PROTOCOL.md §7): a `checkin.request` to the home's SOS buttons when the
   * home has been quiet for longer than is usual for its resident; silence raises `inactivity`.
   * The deadline never passes inactivity.hoursWithMotion / hoursDoorOnly: the longest a fall may go unseen.
   */
  checkin: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** How long the hub waits for an answer before alarming (at least 15 minutes). */
      waitMinutes: z.number().int().min(15).max(120).default(20),
      /**
       * Requests per quiet spell before alarming: each unanswered one is followed by the next when
       * its wait ends, as long as the maximum allows (a resident who did not hear the first).
       */
      requests: z.number().int().min(1).max(4).default(3),
      /** Site-only: prompts per resident and local day for quiet spells and the morning check (daily check-ins not counted). */
      maxPerDay: z.number().int().min(0).max(24).default(2),
      /** Learn each resident's usual quiet spells by hour and weekday; false: ask only at the maximum. */
      learn: z.boolean().default(true),
      /** Days of history before what was learned replaces the safe default. */
      learnDays: z.number().int().min(3).max(28).default(7),
      /** A daily check-in time (local HH:MM): asked then unless the resident has been up since the night ended. */
      dailyAt: z.union([hhmm, z.literal(false)]).default(false),
    })
    .prefault({}),
  deviceOffline: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** A device that reported `offline` (or whose Last Will fired) and is still offline after this long. */
      offlineMinutes: z.number().min(1).max(1440).default(5),
      /** After the hub restarts, devices get this long to reconnect before a supervision check that fell due is judged. */
      startupGraceMinutes: z.number().min(1).max(120).default(10),
      /** Supervision: no message at all within this many hours. */
      supervisionHours: z
        .strictObject({
          sos_button: z.number().min(0.1).max(168).default(2),
          smoke_detector: z.number().min(0.1).max(168).default(2),
          door_sensor: z.number().min(0.1).max(168).default(25),
          motion_sensor: z.number().min(0.1).max(168).default(25),
          gateway: z.number().min(0.1).max(168).default(25),
        })
        .prefault({}),
    })
    .prefault({}),
  batteryLow: z
    .strictObject({ enabled: z.boolean().default(true), percent: z.number().min(1).max(90).default(20) })
    .prefault({}),
  tamper: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  escalation: z
    .strictObject({
      /** Unacknowledged this long: level 1 (supervisors). */
      level1Seconds: z.number().int().min(10).max(3600).default(60),
      /** Unacknowledged this long: level 2 (everyone on duty). */
      level2Seconds: z.number().int().min(20).max(7200).default(180),
      /** Acknowledged but unresolved this long: reminder. */
      reminderMinutes: z.number().min(1).max(1440).default(30),
    })
    .prefault({})
    .refine((e) => e.level2Seconds > e.level1Seconds, {
      message: 'level2Seconds must be later than level1Seconds',
      path: ['level2Seconds'],
    }),
  /** Alerts of one home raised within this many minutes share an incidentId. */
  incidentWindowMinutes: z.number().min(0).max(240).default(10),
});

export type RuleSettings = z.output<typeof ruleSettingsSchema>;

/** Per-home overrides: any subset of the site's settings (escalation stays site-wide). */
export const homeRuleOverridesSchema = z.strictObject({
  nightWindow: z.strictObject({ start: hhmm.optional(), end: hhmm.optional() }).optional(),
  nightExit: z
    .strictObject({
      enabled: z.boolean().optional(),
      openMinutes: z.number().min(1).max(240).optional(),
      noReturnMinutes: z.number().min(5).max(480).optional(),
    })
    .optional(),
  doorLeftOpen: z
    .strictObject({ enabled: z.boolean().optional(), minutes: z.number().min(1).max(1440).optional() })
    .optional(),
  inactivity: z
    .strictObject({
      enabled: z.boolean().optional(),
      hoursWithMotion: z.number().min(1).max(72).optional(),
      hoursDoorOnly: z.number().min(1).max(168).optional(),
      morningCheck: z.union([hhmm, z.literal(false)]).optional(),
    })
    .optional(),
  checkin: z
    .strictObject({
      enabled: z.boolean().optional(),
      waitMinutes: z.number().int().min(15).max(120).optional(),
      requests: z.number().int().min(1).max(4).optional(),
      learn: z.boolean().optional(),
      learnDays: z.number().int().min(3).max(28).optional(),
      dailyAt: z.union([hhmm, z.literal(false)]).optional(),
    })
    .optional(),
  deviceOffline: z
    .strictObject({
      enabled: z.boolean().optional(),
      offlineMinutes: z.number().min(1).max(1440).optional(),
      supervisionHours: z
        .strictObject({
          sos_button: z.number().min(0.1).max(168).optional(),
          smoke_detector: z.number().min(0.1).max(168).optional(),
          door_sensor: z.number().min(0.1).max(168).optional(),
          motion_sensor: z.number().min(0.1).max(168).optional(),
          gateway: z.number().min(0.1).max(168).optional(),
        })
        .optional(),
    })
    .optional(),
  batteryLow: z
    .strictObject({ enabled: z.boolean().optional(), percent: z.number().min(1).max(90).optional() })
    .optional(),
  tamper: z.strictObject({ enabled: z.boolean().optional() }).optional(),
  /** Any resident of the home wanders: night exit is raised the moment the door opens at night. */
  wanderingRisk: z.boolean().optional(),
});

export type HomeRuleOverrides = z.output<typeof homeRuleOverridesSchema>;

/** The settings in force for one home: site defaults, then the home's overrides. */
export function resolveHomeRules(site: RuleSettings, home: HomeRuleOverrides | undefined): RuleSettings {
  if (!home) return site;
  const merged = structuredClone(site) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(home)) {
    if (key === 'wanderingRisk' || value === undefined) continue;
    const base = merged[key] as Record<string, unknown>;
    const over = value as Record<string, unknown>;
    const next: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) continue;
      next[k] = v && typeof v === 'object' && !Array.isArray(v) ? { ...(base[k] as object), ...v } : v;
    }
    merged[key] = next;
  }
  return merged as unknown as RuleSettings;
}
