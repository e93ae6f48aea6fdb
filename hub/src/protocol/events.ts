import { z } from 'zod';

export const EVENT_TYPES = [
  'sos.pressed',
  'sos.cancelled',
  'door.opened',
  'door.closed',
  'smoke.detected',
  'smoke.cleared',
  'smoke.test',
  'motion.detected',
  'tamper',
  'heartbeat',
  /** "I am OK": the answer to a `checkin.request`, or a daily check-in press (PROTOCOL.md §7). */
  'checkin',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** PROTOCOL.md §1 event payload. Unknown extra fields are tolerated (devices add their own). */
export const eventPayloadSchema = z.looseObject({
  type: z.enum(EVENT_TYPES),
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/)
    .optional(),
  ts: z.union([z.string().max(64), z.number().finite()]).optional(),
  battery: z.number().min(0).max(100).optional(),
  batteryLow: z.boolean().optional(),
  rssi: z.number().finite().min(-200).max(200).optional(),
  // `requestId` (checkin) is deliberately not checked here: a check-in with a malformed, unknown or
  // stale id still tells the hub the resident is there, so it is never refused for it (the applier
  // keeps the id only when it is a well-formed one: see toDeviceEvent in core/applier.ts).
});
export type EventPayload = z.infer<typeof eventPayloadSchema>;

export const statusPayloadSchema = z.looseObject({ state: z.enum(['online', 'offline']) });

/** An accepted device message, normalised: what the journal stores and the rules see. */
export interface DeviceEvent {
  /** Journal sequence number: total order of everything the hub accepted. */
  seq: number;
  deviceId: string;
  homeId: string;
  /** Hub receive time (epoch ms); the device clock is kept as `deviceTs` only. */
  at: number;
  type: EventType | 'status.online' | 'status.offline';
  eventId?: string;
  deviceTs?: string | number;
  battery?: number;
  batteryLow?: boolean;
  rssi?: number;
  /** `checkin` only: the `checkin.request` it answers, when the device said so with a well-formed id. */
  requestId?: string;
}

/** Ids on the wire: PROTOCOL.md "Ids are strings of [A-Za-z0-9._-]{1,64}". */
export const WIRE_ID = /^[A-Za-z0-9._-]{1,64}$/;

export type RejectReason =
  | 'not_json'
  | 'not_utf8'
  | 'too_large'
  | 'invalid_payload'
  | 'unknown_type'
  | 'bad_topic'
  | 'acl_denied'
  | 'unknown_device';
