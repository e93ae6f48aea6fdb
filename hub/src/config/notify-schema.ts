import { z } from 'zod';

/** The alert kinds (model/alert.ts ALERT_KINDS; config sits below model, a unit test keeps them equal). */
export const NOTIFY_ALERT_KINDS = [
  'sos',
  'smoke',
  'night_exit',
  'door_left_open',
  'inactivity',
  'device_offline',
  'battery_low',
  'tamper',
] as const;

/** Kinds that always go out: no quiet rule may hold them. */
export const NEVER_QUIET = ['sos', 'smoke'] as const;

export const CONTACT_RELATIONS = ['family', 'grid_worker', 'neighbour', 'doctor', 'other'] as const;
export const CHANNELS = ['email', 'webhook', 'sms', 'wecom', 'dingtalk'] as const;
export type Channel = (typeof CHANNELS)[number];

const DURATION = /^(\d{1,7})(s|m|h)$/;

/** "60s", "3m", "1h" in milliseconds (the schema has checked the shape). */
export function durationMs(d: string): number {
  const m = DURATION.exec(d.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

/**
 * A duration like "60s", "3m", "1h", at most 7 days. Kept as written (so a parsed configuration
 * parses again the same); `durationMs` turns it into milliseconds where it is used.
 */
export const durationSchema = z.string().refine((v) => {
  const ms = durationMs(v);
  return Number.isFinite(ms) && ms <= 7 * 86_400_000;
}, 'must be a duration like "60s", "3m" or "1h" (at most 7 days)');

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM');

const httpsUrl = (what: string) =>
  z.url({ protocol: /^https?$/, error: `${what} must be an http(s) URL` }).max(2000);

const ladderStepSchema = z.strictObject({
  after: durationSchema,
  relations: z.array(z.enum(CONTACT_RELATIONS)).min(1),
  /** Alert kinds this step is for; every kind when left out. */
  kinds: z.array(z.enum(NOTIFY_ALERT_KINDS)).min(1).optional(),
});

const ladderSchema = z
  .array(ladderStepSchema)
  .max(10)
  .refine(
    (steps) => steps.every((s, i) => i === 0 || durationMs(s.after) > durationMs(steps[i - 1]?.after ?? '')),
    {
      message: 'ladder steps must come later one after the other',
    },
  );

/**
 * A quiet rule: alerts of these kinds notify nobody between `from` and `to` (the home's local time;
 * `from` later than `to` spans midnight). A step that falls in the window goes out when it ends.
 */
const quietRuleSchema = z
  .strictObject({
    kinds: z.array(z.enum(NOTIFY_ALERT_KINDS)).min(1),
    from: hhmm,
    to: hhmm,
  })
  .refine((q) => !q.kinds.some((k) => (NEVER_QUIET as readonly string[]).includes(k)), {
    message: 'sos and smoke always go out: they cannot be quiet',
    path: ['kinds'],
  })
  .refine((q) => q.from !== q.to, { message: 'from and to must differ', path: ['to'] });

export const DEFAULT_QUIET = [
  { kinds: ['battery_low', 'device_offline', 'tamper'] as const, from: '21:00', to: '08:00' },
];

const robotSchema = z.strictObject({
  url: httpsUrl('the robot URL'),
  /** DingTalk's signing secret ("SEC…", the robot's 加签 setting); WeCom robots have none. */
  secret: z.string().min(8).max(200).optional(),
});

/** WeCom or DingTalk group robots: one for the site, or one per grid (its group). */
const robotsSchema = robotSchema.extend({
  byGrid: z.record(z.string(), robotSchema).optional(),
  /** Messages a robot accepts per minute (both services: 20). */
  perMinute: z.number().int().min(1).max(600).default(20),
});

const smsSchema = z.strictObject({
  /** The gateway's API shape. `aliyun`: Alibaba Cloud SMS SendSms (RPC style, HMAC-SHA1 signed). */
  provider: z.enum(['aliyun']).default('aliyun'),
  endpoint: httpsUrl('sms.endpoint').default('https://dysmsapi.aliyuncs.com/'),
  accessKeyId: z.string().min(1).max(200),
  accessKeySecret: z.string().min(1).max(200),
  signName: z.string().min(1).max(100),
  /** Template code per language (the site's language when the contact's has none). */
  templates: z.record(z.string(), z.string().min(1).max(100)),
  regionId: z.string().min(1).max(50).default('cn-hangzhou'),
  perMinute: z.number().int().min(1).max(6000).default(60),
});

const smtpSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(587),
  /** true: TLS from the start (port 465); false: STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().max(320).optional(),
  password: z.string().max(500).optional(),
  from: z.string().min(3).max(320),
  perMinute: z.number().int().min(1).max(6000).default(120),
});

const webhookSchema = z.strictObject({
  url: httpsUrl('webhook.url'),
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'must be "whsec_" and a base64 key (Standard Webhooks)'),
  perMinute: z.number().int().min(1).max(6000).default(600),
});

/** PROTOCOL.md §6, and what the hub adds beside it (docs/configuration.md, "notifications"). */
export const notificationsSchema = z.strictObject({
  /** Base of the acknowledgement links in messages, as contacts' phones reach the hub. */
  publicUrl: httpsUrl('publicUrl').transform((u) => u.replace(/\/+$/, '')),
  /** Key for the acknowledgement links (32+ characters); generated once and kept in hub.db when left out. */
  linkSecret: z.string().min(32).max(500).optional(),
  /** How long a link in a message stays valid. */
  linkTtl: durationSchema.default('12h'),
  ladder: ladderSchema.default([]),
  quiet: z
    .array(quietRuleSchema)
    .max(20)
    .default(DEFAULT_QUIET.map((q) => ({ ...q, kinds: [...q.kinds] }))),
  /** Attempts per delivery before it is given up (and shown to staff as failed). */
  maxAttempts: z.number().int().min(1).max(50).default(8),
  webhook: webhookSchema.optional(),
  smtp: smtpSchema.optional(),
  wecom: robotsSchema.optional(),
  dingtalk: robotsSchema.optional(),
  sms: smsSchema.optional(),
});

/** homes[].notifications: the home's own ladder or quiet rules, or none at all. */
export const homeNotifySchema = z.strictObject({
  off: z.boolean().default(false),
  ladder: ladderSchema.optional(),
  quiet: z.array(quietRuleSchema).max(20).optional(),
});

export const contactNotifyFields = {
  email: z.email().max(320).optional(),
  language: z.string().min(2).max(35).optional(),
  notify: z.array(z.enum(CHANNELS)).max(CHANNELS.length).default([]),
};

export type NotificationsConfig = z.output<typeof notificationsSchema>;
export type HomeNotifyConfig = z.output<typeof homeNotifySchema>;
export type LadderStep = NotificationsConfig['ladder'][number];
export type QuietRule = NotificationsConfig['quiet'][number];
