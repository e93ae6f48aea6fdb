import type { Home } from '../api/types';
import { useI18n } from '../i18n/i18n';

/** Who lives there: name, age, language, notes, wandering risk; and where: address, grid, mode. */
export function ResidentPanel({ home }: { home: Home }) {
  const { t, lang } = useI18n();
  return (
    <section class="panel" aria-labelledby="resident-title">
      <h2 id="resident-title">{t('detail.resident')}</h2>
      {home.residents.map((r) => (
        <div key={r.id} class="resident">
          <p class="resident-name">
            {r.name}
            {r.wanderingRisk && <span class="badge badge-risk">{t('resident.wanderingRisk')}</span>}
          </p>
          <dl class="facts">
            <dt>{t('resident.age')}</dt>
            <dd>{r.age ?? '—'}</dd>
            <dt>{t('resident.language')}</dt>
            <dd>{r.language ? languageName(r.language, lang) : '—'}</dd>
            {r.notes && (
              <>
                <dt>{t('resident.notes')}</dt>
                <dd class="resident-notes">{r.notes}</dd>
              </>
            )}
          </dl>
        </div>
      ))}
      <dl class="facts">
        <dt>{t('home.address')}</dt>
        <dd>{home.address}</dd>
        <dt>{t('home.grid')}</dt>
        <dd>{home.grid}</dd>
        <dt>{t('home.mode')}</dt>
        <dd>{t(`mode.${home.mode.mode}`)}</dd>
      </dl>
    </section>
  );
}

/** A resident's language in the console's language ("Uyghur", "维吾尔语"), else its code. */
function languageName(code: string, uiLang: string): string {
  try {
    return new Intl.DisplayNames([uiLang], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** The number a `tel:` link dials: digits and a leading +. */
const dial = (phone: string) => `tel:${phone.replace(/[^+0-9]/g, '')}`;

/**
 * Whom to call, first thing on the alert: the resident's own phone, then the contacts in the order
 * the site gave them. Each person once: the name, their role in words, and the Call button.
 */
export function CallPanel({ home }: { home: Home }) {
  const { t } = useI18n();
  const contacts = home.contacts ?? [];
  return (
    <section class="panel call-panel" aria-labelledby="call-title">
      <h2 id="call-title">{t('detail.call')}</h2>
      <ul class="contacts">
        {home.residents.map((r) => (
          <li key={`r-${r.id}`} class="contact contact-resident" data-resident-id={r.id}>
            <span class="contact-who">
              <strong>{r.name}</strong> <span class="muted">{t('contacts.resident')}</span>
            </span>
            {r.phone ? (
              <a class="btn btn-primary tel" href={dial(r.phone)}>
                {t('contacts.call')} <span class="phone">{r.phone}</span>
              </a>
            ) : (
              <span class="muted">{t('contacts.noPhone')}</span>
            )}
          </li>
        ))}
        {contacts.map((c) => (
          <li key={`${c.name}-${c.phone}`} class="contact">
            <span class="contact-who">
              <strong>{c.name}</strong> <span class="muted">{t(`relation.${c.relation}`)}</span>
              {c.notes && <span class="muted small contact-notes">{c.notes}</span>}
            </span>
            {c.phone ? (
              <a class="btn btn-secondary tel" href={dial(c.phone)}>
                {t('contacts.call')} <span class="phone">{c.phone}</span>
              </a>
            ) : (
              <span class="muted">{t('contacts.noPhone')}</span>
            )}
          </li>
        ))}
      </ul>
      {contacts.length === 0 && <p class="muted">{t('contacts.none')}</p>}
    </section>
  );
}
