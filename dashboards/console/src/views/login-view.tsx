import { useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Session } from '../api/types';
import { describeError } from '../format/errors';
import { useI18n } from '../i18n/i18n';
import { askNotificationPermission } from '../sound/notifier';
import { sharedAlarm } from '../sound/shared-alarm';
import { ErrorBox } from '../ui/error-box';
import { LanguageSelect } from '../ui/language-select';

/** A plain form: user name, password, Enter submits. */
export function LoginView({
  onLogin,
  sessionEnded,
}: {
  onLogin: (s: Session) => void;
  sessionEnded: boolean;
}) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    // This is a user gesture: the only moment a page may unlock sound and ask to notify.
    void sharedAlarm.unlock();
    void askNotificationPermission();
    setBusy(true);
    setError(null);
    try {
      onLogin(await api.login(username.trim(), password));
    } catch (err) {
      setError(describeError(err, t));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-form" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t('app.title')}</h1>
        <p class="login-sub">{t('login.subtitle')}</p>
        {sessionEnded && <p class="notice">{t('login.sessionEnded')}</p>}
        <label for="login-username">{t('login.username')}</label>
        <input
          id="login-username"
          name="username"
          type="text"
          autocomplete="username"
          autocapitalize="off"
          spellcheck={false}
          required
          value={username}
          onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)}
        />
        <label for="login-password">{t('login.password')}</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
        />
        <ErrorBox message={error} />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
        <LanguageSelect />
      </form>
    </main>
  );
}
