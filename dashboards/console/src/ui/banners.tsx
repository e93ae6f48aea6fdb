import { api } from '../api/endpoints';
import type { Alert } from '../api/types';
import type { ConnectionState } from '../feed/feed-connection';
import type { LiveState } from '../feed/live-state';
import { formatAge } from '../format/time';
import { localTitle, useI18n } from '../i18n/i18n';
import { ErrorBox } from './error-box';
import { hrefFor } from './hooks';
import { KindIcon } from './kind-icon';
import { useAction } from './use-action';

/** Says plainly that the live feed is down, for how long, and when it tries again. */
export function ConnectionBanner({
  state,
  now,
  onRetry,
}: {
  state: ConnectionState;
  now: number;
  onRetry: () => void;
}) {
  const { t } = useI18n();
  if (state.status !== 'lost') return null;
  const retryIn = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - now) / 1000)) : 0;
  return (
    <div class="banner banner-lost" role="alert" data-testid="connection-lost">
      <strong>{t('conn.lostTitle')}</strong>
      <span>
        {t('conn.lostBody', { age: formatAge(now - (state.lostAt ?? now), t) })}{' '}
        {state.retryAt ? t('conn.retryIn', { s: retryIn }) : t('conn.retrying')}
      </span>
      <button type="button" class="btn btn-on-dark" onClick={onRetry}>
        {t('conn.retryNow')}
      </button>
    </div>
  );
}

export function SoundBlockedBanner({
  show,
  urgent,
  onEnable,
}: {
  show: boolean;
  urgent: boolean;
  onEnable: () => void;
}) {
  const { t } = useI18n();
  if (!show) return null;
  return (
    <div class={`banner ${urgent ? 'banner-lost' : 'banner-info'}`} role={urgent ? 'alert' : 'status'}>
      <span>{t('sound.blocked')}</span>
      <button type="button" class={`btn ${urgent ? 'btn-on-dark' : 'btn-secondary'}`} onClick={onEnable}>
        {t('sound.enable')}
      </button>
    </div>
  );
}

/** Unacknowledged critical alerts above every view but the queue, each with its acknowledge button. */
export function CriticalStrip({ alerts, now, live }: { alerts: Alert[]; now: number; live: LiveState }) {
  if (alerts.length === 0) return null;
  return (
    <ul class="critical-strip">
      {alerts.map((a) => (
        <CriticalItem key={a.id} alert={a} now={now} live={live} />
      ))}
    </ul>
  );
}

function CriticalItem({ alert, now, live }: { alert: Alert; now: number; live: LiveState }) {
  const { lang, t } = useI18n();
  const [ack, state] = useAction(async () => live.applyAlert(await api.ack(alert.id)));
  return (
    <li class={`critical-item critical-${alert.kind === 'smoke' ? 'smoke' : 'other'}`}>
      <KindIcon kind={alert.kind} />
      <a href={hrefFor({ view: 'alert', id: alert.id })}>{localTitle(alert.title, lang)}</a>
      <span class="critical-age">{formatAge(now - Date.parse(alert.raisedAt), t)}</span>
      <button type="button" class="btn btn-on-dark" disabled={state.busy} onClick={() => void ack()}>
        {t('action.ack')}
      </button>
      <ErrorBox message={state.error} onDismiss={state.clear} />
    </li>
  );
}
