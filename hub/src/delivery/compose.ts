import { durationMs, type NotificationsConfig } from '../config/notify-schema.js';
import type { ContactConfig, HomeConfig } from '../config/schema.js';
import type { Messages } from '../i18n/messages.js';
import type { AlertRecord } from '../model/alert.js';
import type { NotifyRow } from '../model/notify.js';
import { signLink } from '../notify/link-token.js';
import { languageFor, renderMessage } from '../notify/message.js';
import type { Delivery } from './channel.js';

export interface ComposeParts {
  config: NotificationsConfig;
  messages: Messages;
  siteName: string;
  siteLocale: string;
  linkKey: Buffer;
}

/** The "I am going" link of a row: valid from the step for `linkTtl` (the same link on every retry). */
export function ackUrlOf(p: ComposeParts, row: NotifyRow): string {
  const token = signLink(p.linkKey, {
    alertId: row.alertId,
    contact: row.contact,
    exp: row.createdAt + durationMs(p.config.linkTtl),
  });
  return `${p.config.publicUrl}/ack/${token}`;
}

/** What goes to a contact about an alert at `now` (hub time): text in their language, the webhook body. */
export function composeDelivery(
  p: ComposeParts,
  row: NotifyRow,
  rec: AlertRecord,
  home: HomeConfig,
  contact: ContactConfig,
  now: number,
): Delivery {
  // A group robot's message is read by the whole group: the site's language.
  const group = row.channel === 'wecom' || row.channel === 'dingtalk';
  const lang = group ? p.siteLocale : languageFor(p.messages, contact.language, p.siteLocale);
  const link = ackUrlOf(p, row);
  const message = renderMessage(p.messages, {
    lang,
    kind: rec.alert.kind,
    address: home.address,
    waitedMs: now - rec.raisedAtMs,
    link,
    site: p.siteName,
  });
  return {
    id: row.id,
    row,
    contact,
    grid: home.grid,
    message,
    webhook: {
      type: 'alert.notify',
      alert: {
        id: rec.alert.id,
        kind: rec.alert.kind,
        severity: rec.alert.severity,
        status: rec.alert.status,
        homeId: home.id,
        address: home.address,
        raisedAt: rec.alert.raisedAt,
        title: message.title,
        waitedSeconds: Math.max(0, Math.floor((now - rec.raisedAtMs) / 1000)),
      },
      contact: {
        id: `${home.id}.${row.contact}`,
        name: contact.name,
        relation: contact.relation,
        language: lang,
      },
      step: row.step,
      ackUrl: link,
      text: message.text,
    },
  };
}

/** A test message to one contact on one channel (console test-send): no alert, no link. */
export function composeTest(
  p: ComposeParts,
  id: string,
  home: HomeConfig,
  index: number,
  contact: ContactConfig,
): Delivery {
  const lang = languageFor(p.messages, contact.language, p.siteLocale);
  const params = { site: p.siteName, name: contact.name };
  const text = p.messages.t(lang, 'notify.test_body', params);
  return {
    id,
    row: null,
    contact,
    grid: home.grid,
    message: {
      lang,
      title: text,
      subject: p.messages.t(lang, 'notify.test_subject', params),
      text,
      short: text,
      headline: text,
      minutes: 0,
    },
    webhook: {
      type: 'contact.test',
      alert: null,
      contact: { id: `${home.id}.${index}`, name: contact.name, relation: contact.relation, language: lang },
      step: 0,
      ackUrl: null,
      text,
    },
  };
}
