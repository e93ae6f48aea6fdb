import type { ContactConfig } from '../config/schema.js';
import type { NotifyChannel, NotifyRow } from '../model/notify.js';
import type { NotifyMessage } from '../notify/message.js';

/** The webhook body of PROTOCOL.md §6 (`type: alert.notify`). */
export interface WebhookBody {
  type: 'alert.notify' | 'contact.test';
  alert: {
    id: string;
    kind: string;
    severity: string;
    status: string;
    homeId: string;
    address: string;
    raisedAt: string;
    title: string;
    waitedSeconds: number;
  } | null;
  contact: { id: string; name: string; relation: string; language: string };
  step: number;
  ackUrl: string | null;
  text: string;
}

/** One message to one contact on one channel (a test-send has no outbox row: `id` starts with `test-`). */
export interface Delivery {
  /** The idempotency key: the outbox row's id (webhook-id, email Message-ID, SMS OutId). */
  id: string;
  row: NotifyRow | null;
  contact: ContactConfig;
  /** The home's grid: picks its group robot. */
  grid: string;
  message: NotifyMessage;
  webhook: WebhookBody;
}

/**
 * What one send did. sent: the service took it. transient: try again later (network, 5xx,
 * timeout). rate_limited: the service asked us to slow down. permanent: it will never work as
 * configured (a 4xx, a rejected address, a bad key); retrying would only hide it from staff.
 */
export interface SendResult {
  outcome: 'sent' | 'transient' | 'rate_limited' | 'permanent';
  /** Short, and without secrets or addresses ("250 OK", "HTTP 500", "errcode 45009"). */
  detail: string;
  retryAfterMs?: number | undefined;
}

/** A channel adapter: one send of one or more deliveries (robots batch a step's contacts in one message). */
export interface ChannelAdapter {
  readonly channel: NotifyChannel;
  /** Deliveries that may go in one request share this key (same robot); undefined: one per request. */
  batchKey?(d: Delivery): string | undefined;
  /** The rate-limit bucket this delivery counts against. */
  bucket(d: Delivery): string;
  send(batch: readonly Delivery[]): Promise<SendResult>;
  close?(): void;
}

/** Strip what looks like an email address or a long digit run (a phone number) from a service's answer. */
export function scrub(text: string, max = 160): string {
  return text
    .replace(/[^\s<>"']+@[^\s<>"']+/g, '<address>')
    .replace(/\+?\d[\d ()-]{7,}\d/g, '<number>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}
