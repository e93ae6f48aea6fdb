import { useId } from 'preact/hooks';
import { LANGUAGES, useI18n } from '../i18n/i18n';

export function LanguageSelect({ compact = false }: { compact?: boolean }) {
  const { lang, t, setLang } = useI18n();
  const id = useId();
  return (
    <span class="lang-select">
      <label for={id} class={compact ? 'sr-only' : undefined}>
        {t('lang.label')}
      </label>
      <select id={id} value={lang} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value)}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </span>
  );
}
