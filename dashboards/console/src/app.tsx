import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from './api/endpoints';
import { setUnauthenticatedHandler } from './api/http';
import type { Session } from './api/types';
import { languageBeforeLogin, languageForSession, rememberLanguage } from './i18n/choose-language';
import { type I18n, I18nContext, translator } from './i18n/i18n';
import { ConsoleShell } from './views/console-shell';
import { LoginView } from './views/login-view';

/** Session and language; the login page until the hub knows who we are, then the console. */
export function App() {
  const [lang, setLang] = useState(languageBeforeLogin);
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [ended, setEnded] = useState(false);
  const sessionRef = useRef<Session | null | undefined>(undefined);
  sessionRef.current = session;
  /** A language picked on the login page: the console keeps it after signing in. */
  const chosenAtLogin = useRef<string | undefined>(undefined);

  const start = (s: Session) => {
    setEnded(false);
    setLang(languageForSession(s, chosenAtLogin.current));
    chosenAtLogin.current = undefined;
    setSession(s);
  };

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      if (sessionRef.current) setEnded(true);
      setSession(null);
    });
    api
      .me()
      .then(start)
      .catch(() => setSession(null));
    return () => setUnauthenticatedHandler(undefined);
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const i18n = useMemo<I18n>(
    () => ({
      lang,
      t: translator(lang),
      setLang: (l: string) => {
        const staffId = sessionRef.current?.staff.id;
        if (!staffId) chosenAtLogin.current = l;
        rememberLanguage(l, staffId);
        setLang(l);
      },
    }),
    [lang],
  );

  useEffect(() => {
    document.title = i18n.t('app.title');
  }, [i18n]);

  const logout = async () => {
    try {
      await api.logout();
    } catch {
      // the cookie may already be gone; the page forgets the session either way
    }
    setSession(null);
  };

  return (
    <I18nContext.Provider value={i18n}>
      {session === undefined ? (
        <p class="loading">{i18n.t('app.loading')}</p>
      ) : session ? (
        <ConsoleShell key={session.staff.id} session={session} onLogout={logout} />
      ) : (
        <LoginView onLogin={start} sessionEnded={ended} />
      )}
    </I18nContext.Provider>
  );
}
