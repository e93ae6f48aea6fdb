import type { Messages } from '../i18n/messages.js';

export interface MessageInput {
  /** The contact's language, or the site's. */
  lang: string;
  kind: string;
  address: string;
  /** How long the alert has waited, ms. */
  waitedMs: number;
  link: string;
  site: string;
}

export interface NotifyMessage {
  lang: string;
  title: string;
  subject: string;
  /** Email and webhook text: title, address, time waited, link, site. */
  text: string;
  /** One line for SMS. */
  short: string;
  /** A group robot's message, before each contact's line with their own link. */
  headline: string;
  minutes: number;
}

/**
 * A message in the contact's language from the locale files (hub/locales/<lang>.json: a site adds
 * a language with one file). It says what happened, where, how long it has waited and the link;
 * never the resident's name or health notes.
 */
export function renderMessage(messages: Messages, m: MessageInput): NotifyMessage {
  const title = messages.t(m.lang, `alert.${m.kind}`, { address: m.address });
  const minutes = Math.max(0, Math.floor(m.waitedMs / 60_000));
  const params = {
    title,
    address: m.address,
    minutes: String(minutes),
    link: m.link,
    site: m.site,
  };
  return {
    lang: m.lang,
    title,
    subject: messages.t(m.lang, 'notify.subject', params),
    text: messages.t(m.lang, 'notify.body', params),
    short: messages.t(m.lang, 'notify.short', params),
    headline: messages.t(m.lang, 'notify.group', params),
    minutes,
  };
}

/** The contact's language when the hub has its messages, else the site's. */
export function languageFor(messages: Messages, contactLang: string | undefined, siteLocale: string): string {
  return contactLang && messages.locales().includes(contactLang) ? contactLang : siteLocale;
}
