import { useId, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Home, HomeModeName } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { ErrorBox } from './error-box';
import { useAction } from './use-action';

const MODES: HomeModeName[] = ['home', 'away', 'maintenance'];

/** Set a home's mode (home / away / maintenance), optionally until a time. */
export function ModeControl({ home, onChanged }: { home: Home; onChanged: (home: Home) => void }) {
  const { t } = useI18n();
  const modeId = useId();
  const untilId = useId();
  const [mode, setMode] = useState<HomeModeName>(home.mode.mode);
  const [until, setUntil] = useState('');
  const [save, state] = useAction(async () => {
    const iso = mode !== 'home' && until ? new Date(until).toISOString() : null;
    onChanged(await api.setMode(home.id, mode, iso));
  });
  return (
    <form
      class="mode-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <span class="field">
        <label for={modeId}>{t('home.setMode')}</label>
        <select
          id={modeId}
          value={mode}
          onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as HomeModeName)}
        >
          {MODES.map((m) => (
            <option key={m} value={m}>
              {t(`mode.${m}`)}
            </option>
          ))}
        </select>
      </span>
      {mode !== 'home' && (
        <span class="field">
          <label for={untilId}>{t('home.until')}</label>
          <input
            id={untilId}
            type="datetime-local"
            value={until}
            onInput={(e) => setUntil((e.currentTarget as HTMLInputElement).value)}
          />
        </span>
      )}
      <button type="submit" class="btn btn-secondary" disabled={state.busy}>
        {t('home.saveMode')}
      </button>
      <ErrorBox message={state.error} onDismiss={state.clear} />
    </form>
  );
}
