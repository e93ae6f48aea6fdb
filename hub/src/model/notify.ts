/** A notification's channel (PROTOCOL.md §6 `notify`). */
export type NotifyChannel = 'email' | 'webhook' | 'sms' | 'wecom' | 'dingtalk';

/**
 * pending: to be sent (again at `nextAt`); sent: delivered; failed: given up (staff are told);
 * cancelled: the ladder stopped (staff acknowledged, or a contact is going) before it went out.
 */
export type NotifyStatus = 'pending' | 'sent' | 'failed' | 'cancelled';

/** One outbox row: one message to one contact on one channel at one step of an alert's ladder. */
export interface NotifyRow {
  /** `<alertId>.<step>.<contact>.<channel>`: the idempotency key receivers see (webhook-id, Message-ID). */
  id: string;
  alertId: string;
  homeId: string;
  /** 1-based step of the ladder. */
  step: number;
  /** The contact's index in the home's contacts. */
  contact: number;
  channel: NotifyChannel;
  status: NotifyStatus;
  createdAt: number;
  attempts: number;
  /** When the sender may try it next (hub time). */
  nextAt: number;
  updatedAt: number;
  lastError: string | null;
}

export type AttemptResult = 'sent' | 'retry' | 'failed';

export interface NotifyAttempt {
  rowId: string;
  alertId: string;
  attempt: number;
  at: number;
  result: AttemptResult;
  detail: string;
}

export interface GoingContact {
  alertId: string;
  contact: number;
  at: number;
}

export const notifyRowId = (alertId: string, step: number, contact: number, channel: NotifyChannel) =>
  `${alertId}.${step}.${contact}.${channel}`;
