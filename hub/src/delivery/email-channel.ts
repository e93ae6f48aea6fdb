import nodemailer, { type Transporter } from 'nodemailer';
import type { NotificationsConfig } from '../config/notify-schema.js';
import { type ChannelAdapter, type Delivery, type SendResult, scrub } from './channel.js';

type Smtp = NonNullable<NotificationsConfig['smtp']>;

/** Email through the site's SMTP server (nodemailer): one message per delivery. */
export class EmailChannel implements ChannelAdapter {
  readonly channel = 'email' as const;
  readonly #transport: Transporter;

  constructor(private readonly smtp: Smtp) {
    this.#transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  bucket(): string {
    return 'email';
  }

  async send(batch: readonly Delivery[]): Promise<SendResult> {
    const d = batch[0];
    if (!d?.contact.email) return { outcome: 'permanent', detail: 'no email address' };
    try {
      const info = await this.#transport.sendMail({
        from: this.smtp.from,
        to: d.contact.email,
        subject: d.message.subject,
        text: d.message.text,
        // The outbox row's id: a receiving system can drop a repeat after a crash between send and record.
        messageId: `<${d.id}@carehub.invalid>`,
        headers: { 'X-CareHub-Delivery': d.id },
      });
      return { outcome: 'sent', detail: scrub(String(info.response ?? '250')) };
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; response?: string; message?: string };
      const detail = scrub(e.response ?? `${e.code ?? ''} ${e.message ?? ''}`);
      // 5xx: the server refused for good (unknown mailbox, relay denied); 4xx and no answer: later.
      if (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600)
        return { outcome: 'permanent', detail };
      if (e.code === 'EAUTH') return { outcome: 'permanent', detail: 'SMTP login refused' };
      return { outcome: 'transient', detail: detail || 'SMTP unreachable' };
    }
  }

  close(): void {
    this.#transport.close();
  }
}
