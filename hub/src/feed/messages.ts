import { z } from 'zod';
import { OUTCOMES } from '../model/alert.js';

const requestId = z.string().max(100).optional();
const alertId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const version = z.number().int().positive().optional();

/** PROTOCOL.md §2 client → server messages. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('resume'), afterSeq: z.number().int().min(0), requestId }),
  z.strictObject({ type: z.literal('ack'), alertId, version, requestId }),
  z.strictObject({
    type: z.literal('resolve'),
    alertId,
    outcome: z.enum(OUTCOMES),
    note: z.string().max(2000).optional(),
    version,
    requestId,
  }),
  z.strictObject({ type: z.literal('note'), alertId, text: z.string().min(1).max(2000), version, requestId }),
  z.strictObject({
    type: z.literal('assign'),
    alertId,
    staffId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    version,
    requestId,
  }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
