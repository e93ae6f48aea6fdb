import { Webhook } from 'standardwebhooks';
import type { NotificationsConfig } from '../config/notify-schema.js';
import type { ChannelAdapter, Delivery, SendResult } from './channel.js';
import { byStatus, networkFailure, post } from './http-post.js';

type Hook = NonNullable<NotificationsConfig['webhook']>;

/**
 * A signed POST (Standard Webhooks: `webhook-id` is the outbox row's id, so a receiver drops a
 * repeat; `webhook-timestamp` is real time, which receivers check against theirs).
 */
export class WebhookChannel implements ChannelAdapter {
  readonly channel = 'webhook' as const;
  readonly #signer: Webhook;

  constructor(
    private readonly hook: Hook,
    private readonly realNow: () => number = Date.now,
  ) {
    this.#signer = new Webhook(hook.secret);
  }

  bucket(): string {
    return 'webhook';
  }

  async send(batch: readonly Delivery[]): Promise<SendResult> {
    const d = batch[0];
    if (!d) return { outcome: 'permanent', detail: 'nothing to send' };
    const body = JSON.stringify(d.webhook);
    const at = new Date(Math.floor(this.realNow() / 1000) * 1000);
    try {
      const res = await post(this.hook.url, body, {
        'content-type': 'application/json',
        'webhook-id': d.id,
        'webhook-timestamp': String(at.getTime() / 1000),
        'webhook-signature': this.#signer.sign(d.id, at, body),
        'user-agent': 'CareHub',
      });
      return byStatus(res.status, res.headers);
    } catch (err) {
      return networkFailure(err);
    }
  }
}
