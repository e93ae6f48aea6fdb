import { useState } from 'preact/hooks';
import type { Session } from '../api/types';
import type { ConnectionState } from '../feed/feed-connection';
import { useI18n } from '../i18n/i18n';
import { askNotificationPermission, notificationPermission } from '../sound/notifier';
import { hrefFor, type Route } from './hooks';
import { LanguageSelect } from './language-select';

interface HeaderProps {
  session: Session;
  route: Route;
  openCount: number;
  connection: ConnectionState;
  muted: boolean;
  onMute: () => void;
  onLogout: () => void;
}

export function Header({ session, route, openCount, connection, muted, onMute, onLogout }: HeaderProps) {
  const { t } = useI18n();
  const [permission, setPermission] = useState(notificationPermission());
  const current = (view: Route['view']) => (route.view === view ? 'page' : undefined);
  const online = connection.status === 'open';
  return (
    <header class="header">
      <a class="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <span class="brand">{t('app.brand')}</span>
      <nav class="nav" aria-label={t('nav.label')}>
        <a href={hrefFor({ view: 'queue' })} aria-current={current('queue') ?? current('alert')}>
          {t('nav.queue')} <span class="count">{openCount}</span>
        </a>
        <a href={hrefFor({ view: 'homes' })} aria-current={current('homes')}>
          {t('nav.homes')}
        </a>
        <a href={hrefFor({ view: 'reports' })} aria-current={current('reports')}>
          {t('nav.reports')}
        </a>
        {session.staff.role === 'admin' && (
          <a href={hrefFor({ view: 'admin', path: [] })} aria-current={current('admin')}>
            {t('nav.admin')}
          </a>
        )}
      </nav>
      <span class={`conn ${online ? 'conn-ok' : 'conn-bad'}`} role="status">
        <span class="dot" aria-hidden="true" />
        {online
          ? t('conn.live')
          : connection.status === 'connecting'
            ? t('conn.connecting')
            : t('conn.offline')}
      </span>
      <div class="header-tools">
        <button
          type="button"
          class={`btn ${muted ? 'btn-warn' : 'btn-secondary'}`}
          aria-pressed={muted}
          onClick={onMute}
          title={muted ? t('sound.unmuteHint') : t('sound.muteHint')}
        >
          {muted ? t('sound.muted') : t('sound.on')}
        </button>
        {permission === 'default' && (
          <button
            type="button"
            class="btn btn-secondary"
            onClick={() => void askNotificationPermission().then(setPermission)}
          >
            {t('notify.enable')}
          </button>
        )}
        <LanguageSelect compact />
        <span class="who" title={session.staff.role}>
          {session.staff.name}
        </span>
        <button type="button" class="btn btn-quiet" onClick={onLogout}>
          {t('login.logout')}
        </button>
      </div>
    </header>
  );
}
