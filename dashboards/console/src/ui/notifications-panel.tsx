import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Alert, AlertNotifications } from '../api/types';
import { describeError } from '../format/errors';
import { formatTime } from '../format/time';
import { useI18n } from '../i18n/i18n';
import { ErrorBox } from './error-box';

/** While an alert is unresolved, its notifications are read again this often (retries change no alert). */
const POLL_MS = 10_000;

/**
 * The alert's notifications to contacts (docs/console.md): who is going, who was told on which
 * channel, what failed and why, every attempt. Reloaded when the alert changes (a delivery or a
 * "going" adds a note, which the feed brings) and every 10 s while the alert is unresolved.
 */
export function NotificationsPanel({ alert }: { alert: Alert }) {
  const { t, lang } = useI18n();
  const [data, setData] = useState<AlertNotifications | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      api.notifications(alert.id).then(
        (d) => {
          if (cancelled) return;
          setData(d);
          setError(null);
        },
        (err: unknown) => !cancelled && setError(err),
      );
    void load();
    const timer = alert.status === 'resolved' ? undefined : setInterval(load, POLL_MS);
    return () => {
      cancelled = true;
      if (timer) clearInterval(timer);
    };
  }, [alert.id, alert.version, alert.status]);

  const deliveries = data?.deliveries ?? [];
  const failed = deliveries.filter((d) => d.status === 'failed');
  const relation = (r: string | null) => (r ? t(`relation.${r}`) : '');
  return (
    <section class="panel notify-panel" aria-labelledby="notify-title">
      <h2 id="notify-title">{t('notify.title')}</h2>
      {error ? <ErrorBox message={describeError(error, t)} /> : null}
      {data?.going.map((g) => (
        <p key={g.contact.index} class="notify-going" role="status" data-contact={g.contact.index}>
          {t('notify.going', { name: g.contact.name, time: formatTime(g.at, lang) })}
        </p>
      ))}
      {failed.length > 0 && (
        <p class="notify-failed" role="alert">
          {t('notify.failedCount', { n: failed.length })}
        </p>
      )}
      {data && deliveries.length === 0 && <p class="muted">{t('notify.none')}</p>}
      {deliveries.length > 0 && (
        <table class="notify-table">
          <thead>
            <tr>
              <th>{t('notify.contact')}</th>
              <th>{t('notify.channel')}</th>
              <th>{t('notify.status')}</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id} class={`notify-${d.status}`} data-delivery={d.id} data-status={d.status}>
                <td>
                  {d.contact.name} <span class="muted">{relation(d.contact.relation)}</span>
                </td>
                <td>{t(`channel.${d.channel}`)}</td>
                <td>
                  {t(`notify.status.${d.status}`)}
                  {d.attempts > 1 && ` · ${t('notify.attemptsN', { n: d.attempts })}`}
                  {d.lastError && d.status !== 'sent' && <span class="muted"> · {d.lastError}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(data?.attempts.length ?? 0) > 0 && (
        <details class="notify-attempts">
          <summary>{t('notify.attemptsList', { n: data?.attempts.length ?? 0 })}</summary>
          <ol>
            {data?.attempts.map((a) => {
              const d = deliveries.find((x) => x.id === a.delivery);
              return (
                <li key={`${a.delivery}-${a.attempt}`}>
                  <time dateTime={a.at}>{formatTime(a.at, lang)}</time> {d?.contact.name ?? ''} ·{' '}
                  {d ? t(`channel.${d.channel}`) : ''} · {t(`notify.result.${a.result}`)} · {a.detail}
                </li>
              );
            })}
          </ol>
        </details>
      )}
    </section>
  );
}
