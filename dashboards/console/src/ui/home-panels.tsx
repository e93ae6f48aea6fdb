import type { Contact, Home } from '../api/types';
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

export function ContactsPanel({ contacts }: { contacts: Contact[] }) {
  const { t } = useI18n();
  return (
    <section class="panel" aria-labelledby="contacts-title">
      <h2 id="contacts-title">{t('detail.contacts')}</h2>
      {contacts.length === 0 ? (
        <p class="muted">{t('contacts.none')}</p>
      ) : (
        <ul class="contacts">
          {contacts.map((c) => (
            <li key={`${c.name}-${c.phone}`}>
              <span>
                <strong>{c.name}</strong> <span class="muted">{t(`relation.${c.relation}`)}</span>
              </span>
              {c.phone && (
                <a class="btn btn-secondary tel" href={`tel:${c.phone.replace(/[^+0-9]/g, '')}`}>
                  {t('contacts.call')} {c.phone}
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
