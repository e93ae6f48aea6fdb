import { api } from '../api/endpoints';
import type { Alert, Home } from '../api/types';
import type { LiveState } from '../feed/live-state';
import { formatAge } from '../format/time';
import { localTitle, useI18n } from '../i18n/i18n';
import { AlertBadges } from './alert-badges';
import { ErrorBox } from './error-box';
import { hrefFor } from './hooks';
import { KindIcon, kindClass } from './kind-icon';
import { useAction } from './use-action';

/** One alert in the queue: kind colour and icon, title, badges, ticking age, acknowledge. */
export function AlertCard({
  alert,
  now,
  home,
  live,
}: {
  alert: Alert;
  now: number;
  home?: Home | undefined;
  live: LiveState;
}) {
  const { lang, t } = useI18n();
  const [ack, state] = useAction(async () => live.applyAlert(await api.ack(alert.id)));
  const loud = alert.severity === 'critical' && alert.status === 'open';
  const residents = home?.residents ?? [];
  return (
    <li
      class={`alert-card ${kindClass(alert.kind)} ${loud ? 'alert-loud' : ''} status-${alert.status}`}
      data-alert-id={alert.id}
      data-kind={alert.kind}
      data-status={alert.status}
    >
      <span class="alert-icon">
        <KindIcon kind={alert.kind} size={32} />
        <span class="kind-label">{t(`kind.${alert.kind}`)}</span>
      </span>
      <div class="alert-main">
        <h3 class="alert-title">
          <a href={hrefFor({ view: 'alert', id: alert.id })}>{localTitle(alert.title, lang)}</a>
        </h3>
        <AlertBadges alert={alert} />
        {residents.length > 0 && (
          <p class="alert-resident">
            {residents.map((r) => (
              <span key={r.id}>
                {r.name}
                {r.age !== null && ` · ${t('resident.ageShort', { age: r.age })}`}
                {r.wanderingRisk && <span class="badge badge-risk">{t('resident.wanderingRisk')}</span>}
              </span>
            ))}
          </p>
        )}
        <ErrorBox message={state.error} onDismiss={state.clear} />
      </div>
      {alert.status === 'acknowledged' && alert.acknowledgedAt ? (
        <div class="alert-age" title={alert.acknowledgedAt}>
          <span class="age-label">{t('queue.acknowledged')}</span>
          <span class="age age-quiet">
            {t('queue.ago', { age: formatAge(now - Date.parse(alert.acknowledgedAt), t) })}
          </span>
        </div>
      ) : (
        <div class="alert-age" title={alert.raisedAt}>
          <span class="age-label">{t('queue.waiting')}</span>
          <span class="age">{formatAge(now - Date.parse(alert.raisedAt), t)}</span>
        </div>
      )}
      <div class="alert-actions">
        {alert.status === 'open' && (
          <button type="button" class="btn btn-primary" disabled={state.busy} onClick={() => void ack()}>
            {t('action.ack')}
          </button>
        )}
        <a class="btn btn-secondary" href={hrefFor({ view: 'alert', id: alert.id })}>
          {t('action.details')}
        </a>
      </div>
    </li>
  );
}
