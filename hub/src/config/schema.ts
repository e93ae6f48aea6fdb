import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';
import { clusterSchema } from './cluster-schema.js';
import { crossCheck } from './cross-checks.js';
import { httpHardeningFields, timeoutsFit } from './http-hardening-schema.js';
import { contactNotifyFields, homeNotifySchema, notificationsSchema } from './notify-schema.js';
import { homeRuleOverridesSchema, ruleSettingsSchema } from './rules-schema.js';
import { httpTlsSchema, mqttLimitsSchema, mqttTlsSchema, plaintextNeedsTls } from './security-schema.js';

/** Ids on the wire and in topics: PROTOCOL.md "Ids are strings of [A-Za-z0-9._-]{1,64}". */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');

export const timezoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: 'not an IANA time zone (e.g. Asia/Shanghai)' });

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const hashSchema = z
  .string()
  .regex(
    /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
    'must be a hash made by `carehub hash-secret`',
  );

/** A device may also have the fast hash of a hub-made secret (`carehub hash-secret --generate`). */
const deviceHashSchema = z
  .string()
  .regex(
    /^(scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+|hmac-sha256\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+)$/,
    'must be a hash made by `carehub hash-secret`',
  );

const portSchema = z.number().int().min(0).max(65535);

export const DEVICE_KINDS = [
  'sos_button',
  'door_sensor',
  'smoke_detector',
  'motion_sensor',
  'gateway',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const phoneSchema = z.string().regex(/^\+?[0-9 ()-]{3,32}$/, 'must be a phone number');

export const residentSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(200),
  birthYear: z.number().int().min(1890).max(2100).optional(),
  language: z.string().min(2).max(35).optional(),
  notes: z.string().max(2000).optional(),
  wanderingRisk: z.boolean().default(false),
  /** The resident's own phone: the first number duty staff call (PROTOCOL.md §5). */
  phone: phoneSchema.optional(),
});

export const CONTACT_RELATIONS = ['family', 'grid_worker', 'neighbour', 'doctor', 'other'] as const;
/** Channels a contact is told on (PROTOCOL.md §6); the notifications module sends them. */
export const NOTIFY_CHANNELS = ['email', 'webhook', 'sms', 'wecom', 'dingtalk'] as const;

export const contactSchema = z.strictObject({
  name: z.string().min(1).max(200),
  relation: z.enum(CONTACT_RELATIONS),
  phone: phoneSchema.optional(),
  notes: z.string().max(500).optional(),
  /** PROTOCOL.md §6: email, language of messages, channels to notify on (docs/notifications.md). */
  ...contactNotifyFields,
});

/** A grid: the part of the site a duty staff member watches (a community, a street committee). */
export const gridSchema = z.strictObject({ id: idSchema, name: z.string().min(1).max(200) });

export const deviceSchema = z.strictObject({
  id: idSchema,
  kind: z.enum(DEVICE_KINDS),
  secretHash: deviceHashSchema,
  /** Plaintext secret for the simulator. Only allowed when the configuration sets `demo: true`. */
  demoSecret: z.string().min(1).optional(),
  /** For a device behind a Zigbee2MQTT gateway: the gateway's device id and the device's friendly name. */
  zigbee: z.strictObject({ gateway: idSchema, friendlyName: z.string().min(1).max(200) }).optional(),
  /** For a gateway: its Zigbee2MQTT base topic. */
  baseTopic: z
    .string()
    .regex(/^[A-Za-z0-9._/-]{1,100}$/, 'must be a plain topic prefix without wildcards')
    .optional(),
  label: z.string().max(200).optional(),
});

export const homeSchema = z.strictObject({
  id: idSchema,
  address: z.string().min(1).max(500),
  grid: idSchema,
  timezone: timezoneSchema.optional(),
  residents: z.array(residentSchema).default([]),
  contacts: z.array(contactSchema).default([]),
  devices: z.array(deviceSchema).default([]),
  /** Per-home rule overrides (night window, inactivity hours, which rules are on, …). */
  rules: homeRuleOverridesSchema.optional(),
  /** The home's own notification ladder or quiet rules (docs/notifications.md). */
  notifications: homeNotifySchema.optional(),
});

export const staffSchema = z.strictObject({
  id: idSchema,
  name: z.string().min(1).max(200),
  role: z.enum(['duty', 'supervisor', 'admin']),
  grids: z.array(idSchema).default([]),
  passwordHash: hashSchema,
  locale: z.string().min(2).max(35).optional(),
});

const mqttSchema = z
  .strictObject({
    host: z.string().default('0.0.0.0'),
    port: portSchema.default(1883),
    /** MQTT over WebSocket is served on the HTTP listener at this path. */
    wsPath: z.string().startsWith('/').default('/mqtt'),
    connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /** Bytes a client may send before its CONNECT is accepted (CONNECT with will and credentials fits easily). */
    maxConnectBytes: z.number().int().min(256).max(1_048_576).default(16_384),
    /** Largest MQTT packet accepted after CONNECT. Events are at most 4 KiB; Zigbee2MQTT states are small. */
    maxPacketBytes: z.number().int().min(1024).max(16_777_216).default(65_536),
    maxEventBytes: z.number().int().min(256).max(65_536).default(4096),
    gatewayBaseTopic: z.string().default('zigbee2mqtt'),
    /** MQTT over TLS from PEM files (docs/security.md). */
    tls: mqttTlsSchema.optional(),
    /** false: no plaintext MQTT (neither the TCP listener nor MQTT over plain WebSocket); needs `tls`. */
    plaintext: z.boolean().default(true),
    /** Lab mode for MQTT conformance suites: anonymous clients and any topic. Refused unless CAREHUB_LAB=1. */
    lab: z.boolean().default(false),
    /** Rate limits, flapping ban, connection and queue caps (docs/security.md lists the defaults). */
    limits: mqttLimitsSchema.prefault({}),
  })
  .superRefine(plaintextNeedsTls('mqtt'));

const httpSchema = z
  .strictObject({
    host: z.string().default('0.0.0.0'),
    port: portSchema.default(8080),
    sessionTtlMinutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(12 * 60),
    maxBodyBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
    /** HTTPS and WSS from PEM files (docs/security.md). */
    tls: httpTlsSchema.optional(),
    /** false: no plain HTTP listener (and Secure session cookies); needs `tls`. */
    plaintext: z.boolean().default(true),
    /** Trusted proxies, allowed origins and request timeouts (docs/security.md). */
    ...httpHardeningFields,
  })
  .superRefine(plaintextNeedsTls('http'))
  .superRefine(timeoutsFit);

const feedSchema = z.strictObject({
  /** Feed events kept for `resume`; older resumes get a fresh snapshot. */
  retainEvents: z.number().int().min(100).max(10_000_000).default(100_000),
  maxMessageBytes: z.number().int().min(256).max(1_048_576).default(16_384),
  /** A client whose unsent bytes pass this bound is closed with 1013 and may resume. */
  maxBacklogBytes: z.number().int().min(65_536).max(268_435_456).default(4_194_304),
  /** Ping interval; a client that misses a pong until the next ping is dropped (so within 2 intervals ≤ 60 s). */
  pingIntervalMs: z.number().int().min(100).max(30_000).default(25_000),
  /** Feed connections one login session may hold open at once; more are refused (429). */
  maxConnectionsPerSession: z.number().int().min(1).max(100).default(8),
});

const influxSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }),
    /** InfluxDB 1.x: database (and optional credentials). */
    database: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    retentionPolicy: z.string().min(1).optional(),
    /** InfluxDB 2.x (or 1.8's compatibility API): org, bucket, token. */
    org: z.string().min(1).optional(),
    bucket: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    batchSize: z.number().int().min(1).max(50_000).default(1000),
    flushIntervalMs: z.number().int().min(50).max(60_000).default(1000),
    /** Rows kept on disk while InfluxDB is unreachable; telemetry is dropped oldest-first before alert data. */
    maxBacklogRows: z.number().int().min(1000).max(100_000_000).default(5_000_000),
  })
  .superRefine((v, ctx) => {
    const v2 = v.org !== undefined || v.bucket !== undefined || v.token !== undefined;
    if (v2 && (!v.org || !v.bucket || !v.token)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'InfluxDB 2.x needs org, bucket and token together',
      });
    }
    if (!v2 && !v.database)
      ctx.addIssue({
        code: 'custom',
        path: ['database'],
        message: 'InfluxDB 1.x needs a database (or org, bucket and token for 2.x)',
      });
  });

export const configSchema = z
  .strictObject({
    /** Marks a demonstration configuration: plaintext demoSecret fields are only accepted here. */
    demo: z.boolean().default(false),
    site: z.strictObject({
      name: z.string().min(1).max(200),
      timezone: timezoneSchema,
      locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
    }),
    dataDir: z.string().min(1).default('./data'),
    clock: z.enum(['system', 'manual']).default('system'),
    log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
    mqtt: mqttSchema.prefault({}),
    http: httpSchema.prefault({}),
    feed: feedSchema.prefault({}),
    influx: influxSchema.optional(),
    /** Local SQLite retention: device events and rejected messages. Alerts and the audit trail are kept. */
    retention: z
      .strictObject({
        journalDays: z.number().min(1).max(3650).default(180),
        deadLetterDays: z.number().min(1).max(3650).default(30),
      })
      .prefault({}),
    /** The SQLite store: the write-ahead log is kept under `walLimitMB` (store/checkpointer.ts). */
    store: z.strictObject({ walLimitMB: z.number().int().min(4).max(4096).default(64) }).prefault({}),
    /** A cluster of hubs on NATS JetStream (docs/cluster.md); absent: the hub runs alone. */
    cluster: clusterSchema.optional(),
    /** Site-wide rule settings; every home may override them under homes[].rules. */
    rules: ruleSettingsSchema.prefault({}),
    /**
     * The site directory used to seed a new data dir (docs/configuration.md): at the first start it
     * becomes data in the store, changed from then on through the admin API and console.
     */
    grids: z.array(gridSchema).default([]),
    /** Telling the family, neighbours and grid workers (PROTOCOL.md §6, docs/notifications.md). */
    notifications: notificationsSchema.optional(),
    homes: z.array(homeSchema).default([]),
    staff: z.array(staffSchema).min(1),
  })
  // Cross-checks run even when some field has the wrong type, so every problem is listed at once.
  .superRefine((cfg, ctx) => crossCheck(cfg, ctx), { when: () => true });

export type HubConfig = z.output<typeof configSchema>;
export type HomeConfig = HubConfig['homes'][number];
export type DeviceConfig = HomeConfig['devices'][number];
export type StaffConfig = HubConfig['staff'][number];
export type ResidentConfig = HomeConfig['residents'][number];
export type ContactConfig = HomeConfig['contacts'][number];
export type GridConfig = HubConfig['grids'][number];
