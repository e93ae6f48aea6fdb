import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../clock/clock.js';
import type { Commands } from '../../core/commands.js';
import { ErrorCodes, HubError } from '../../errors.js';
import type { Messages } from '../../i18n/messages.js';
import type { Logger } from '../../log.js';
import { checkLink, type LinkClaims } from '../../notify/link-token.js';
import { languageFor } from '../../notify/message.js';
import type { Directory } from '../../site/directory.js';
import type { AlertRepo } from '../../store/alert-repo.js';
import type { NotifyRepo } from '../../store/notify-repo.js';
import { renderAckPage } from '../ack-page.js';
import { statusOf, toHubError } from '../error-reply.js';

/** Tries per client address and minute, for showing and for answering: a token cannot be guessed anyway. */
export const ACK_TRIES_PER_MINUTE = 30;
const FORM_BYTES = 256;

export interface AckRouteParts {
  key: Buffer;
  clock: Clock;
  alerts: AlertRepo;
  notify: NotifyRepo;
  directory: Directory;
  messages: Messages;
  commands: Commands;
  /** notifications.publicUrl: a form posted from there is ours too (behind a proxy). */
  publicUrl: string;
  log: Logger;
}

type Shown =
  | { state: 'invalid' }
  | { state: 'form' | 'used' | 'closed'; claims: LinkClaims; lang: string; title: string; minutes: number };

/**
 * The public "I am going" page (no login): GET shows it, POST (a plain form) records the answer as a
 * `contact-ack` entry. The token is the only credential; a token that is malformed, forged, expired
 * or names an alert or contact that does not exist gets one and the same page, which says nothing
 * about any alert (docs/security.md, "The acknowledgement link").
 */
export function ackRoutes(app: FastifyInstance, p: AckRouteParts): void {
  const site = p.directory.config.site;
  const locales = p.messages.locales();

  const langOf = (request: FastifyRequest, contactLang?: string): string => {
    const asked = (request.query as Record<string, unknown> | undefined)?.lang;
    if (typeof asked === 'string' && locales.includes(asked)) return asked;
    if (contactLang) return languageFor(p.messages, contactLang, site.locale);
    const accept = String(request.headers['accept-language'] ?? '').toLowerCase();
    if (/^\s*zh/.test(accept) && locales.includes('zh-CN')) return 'zh-CN';
    if (/^\s*en/.test(accept) && locales.includes('en')) return 'en';
    return site.locale;
  };

  const inspect = (request: FastifyRequest): Shown => {
    const token = (request.params as Record<string, unknown>).token;
    const check = checkLink(p.key, token, p.clock.now());
    if (!check.ok) return { state: 'invalid' };
    const { claims } = check;
    const rec = p.alerts.get(claims.alertId);
    const home = rec && p.directory.home(rec.alert.homeId);
    const contact = home?.contacts[claims.contact];
    if (!rec || !home || !contact) return { state: 'invalid' };
    const lang = langOf(request, contact.language);
    const title = p.messages.t(lang, `alert.${rec.alert.kind}`, { address: home.address });
    const minutes = Math.max(0, Math.floor((p.clock.now() - rec.raisedAtMs) / 60_000));
    const used = p.notify.going(claims.alertId).some((g) => g.contact === claims.contact);
    const state = used ? 'used' : rec.alert.status === 'resolved' ? 'closed' : 'form';
    return { state, claims, lang, title, minutes };
  };

  const page = (
    _request: FastifyRequest,
    reply: FastifyReply,
    state: string,
    lang: string,
    extra: string[] = [],
    statusOverride?: number,
  ) => {
    const t = (k: string, params: Record<string, string> = {}) => p.messages.t(lang, k, params);
    // Relative to the page itself: nothing of the request is written back into the page.
    const languages = locales.filter((l) => l !== lang).map((l): [string, string] => [l, `?lang=${l}`]);
    const heading = state === 'form' ? t('ack.title') : t(`ack.${state}_title`);
    const lines = state === 'form' ? extra : [...extra, t(`ack.${state}`)];
    const status =
      statusOverride ?? (state === 'invalid' ? 404 : state === 'busy' ? 429 : state === 'failed' ? 500 : 200);
    return (
      reply
        .code(status)
        .header('cache-control', 'no-store')
        // Same-origin referrers: the page's own form then carries its real Origin (never sent elsewhere).
        .header('referrer-policy', 'same-origin')
        .type('text/html; charset=utf-8')
        .send(
          renderAckPage({
            lang,
            heading,
            lines,
            button: state === 'form' ? t('ack.button') : undefined,
            languages,
            state,
          }),
        )
    );
  };

  const describe = (s: Exclude<Shown, { state: 'invalid' }>) => [
    p.messages.t(s.lang, 'ack.lead', { title: s.title }),
    p.messages.t(s.lang, 'ack.waited', { minutes: String(s.minutes) }),
  ];

  const rateLimit = {
    max: ACK_TRIES_PER_MINUTE,
    timeWindow: 60_000,
    errorResponseBuilder: () =>
      new HubError(ErrorCodes.TOO_MANY_ATTEMPTS, 'too many tries from this address'),
  };
  // The token is the credential and no cookie is involved, so the Origin policy's cookie rules do not
  // apply; a form posted from another site is still refused (below).
  const config = { anyOrigin: true, rateLimit };

  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.setErrorHandler((err, request, reply) => {
      const e = toHubError(err, FORM_BYTES);
      const status = statusOf(e);
      const lang = langOf(request);
      if (e.code === ErrorCodes.TOO_MANY_ATTEMPTS) return page(request, reply, 'busy', lang);
      if (status < 500) return page(request, reply, 'invalid', lang, [], status);
      p.log.error({ err: e.cause ?? e }, 'acknowledgement page failed');
      return page(request, reply, 'failed', lang);
    });

    scope.get('/ack/:token', { config }, async (request, reply) => {
      const shown = inspect(request);
      if (shown.state === 'invalid') return page(request, reply, 'invalid', langOf(request));
      return page(request, reply, shown.state, shown.lang, describe(shown));
    });

    scope.post('/ack/:token', { config }, async (request, reply) => {
      if (!sameSite(request, p.publicUrl))
        throw new HubError(ErrorCodes.CROSS_ORIGIN, 'the form was posted from another site');
      const shown = inspect(request);
      if (shown.state === 'invalid') return page(request, reply, 'invalid', langOf(request));
      if (shown.state !== 'form') return page(request, reply, shown.state, shown.lang, describe(shown));
      const result = await p.commands.contactAck(shown.claims.alertId, shown.claims.contact);
      const state = result === 'going' ? 'going' : result === 'unknown' ? 'invalid' : result;
      return page(request, reply, state, shown.lang, state === 'invalid' ? [] : describe(shown));
    });

    scope.route({
      method: ['PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url: '/ack/:token',
      config: { methodNotAllowed: true },
      handler: async () => undefined,
    });
  });
}

/**
 * A form from the page itself: the hub's own origin or publicUrl's; no Origin (older browsers) or
 * "null" (a browser that hides it, as some do under a strict referrer policy) is let through: the
 * token is the credential, this check only keeps other sites from posting a token they were shown.
 */
function sameSite(request: FastifyRequest, publicUrl: string): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  if (origin === new URL(publicUrl).origin) return true;
  return origin === `${request.protocol}://${request.host}`;
}
