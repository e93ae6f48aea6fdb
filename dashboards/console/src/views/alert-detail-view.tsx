import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Alert, DeviceEvent, Home, Session } from '../api/types';
import type { LiveState } from '../feed/live-state';
import { describeError } from '../format/errors';
import { formatAge, formatTime } from '../format/time';
import { localTitle, useI18n } from '../i18n/i18n';
import { AckButton, AlertActions } from '../ui/alert-actions';
import { AlertBadges } from '../ui/alert-badges';
import { DeviceTable } from '../ui/device-table';
import { ErrorBox } from '../ui/error-box';
import { CallPanel, ResidentPanel } from '../ui/home-panels';
import { useLive } from '../ui/hooks';
import { KindIcon, kindClass } from '../ui/kind-icon';
import { NotificationsPanel } from '../ui/notifications-panel';
import type { StaffDirectory } from '../ui/staff-names';
import { buildTimeline, Timeline } from '../ui/timeline';
import { liveHome } from '../ui/use-homes';

type LabelledEvent = DeviceEvent & { deviceId: string; deviceLabel: string };

const HOUR = 3600_000;

/**
 * One alert: whom to call first (the resident, then the contacts), acknowledge, who and where, the
 * devices, what happened, and every action. At 1366×768 the calls and Acknowledge fit the first screen.
 */
export function AlertDetailView({
  id,
  live,
  now,
  session,
  staff,
}: {
  id: string;
  live: LiveState;
  now: number;
  session: Session;
  staff: StaffDirectory;
}) {
  const { lang, t } = useI18n();
  useLive(live);
  const [fetched, setFetched] = useState<Alert | null>(null);
  const [alertError, setAlertError] = useState<unknown>(null);
  const [home, setHome] = useState<Home | null>(null);
  const [homeError, setHomeError] = useState<unknown>(null);
  const [events, setEvents] = useState<LabelledEvent[]>([]);
  const [eventsError, setEventsError] = useState<unknown>(null);

  useEffect(() => {
    setFetched(null);
    setAlertError(null);
    api.alert(id).then(setFetched, setAlertError);
  }, [id]);

  const fromLive = live.book.latest(id);
  const alert = fromLive && (!fetched || fromLive.version >= fetched.version) ? fromLive : fetched;
  const homeId = alert?.homeId;
  const version = alert?.version;

  useEffect(() => {
    if (!homeId) return;
    api.home(homeId).then(setHome, setHomeError);
  }, [homeId]);

  // Device events around the alert, for every device of the home (or the alert's own device).
  useEffect(() => {
    if (!alert) return;
    const devices =
      home?.devices.map((d) => ({ id: d.id, label: d.label ?? d.id })) ??
      (alert.deviceId ? [{ id: alert.deviceId, label: alert.deviceId }] : []);
    const from = new Date(Date.parse(alert.raisedAt) - 6 * HOUR).toISOString();
    let cancelled = false;
    Promise.all(
      devices.map(async (d) =>
        (await api.deviceEvents(d.id, { from, limit: 100 })).map((e) => ({
          ...e,
          deviceId: d.id,
          deviceLabel: d.label,
        })),
      ),
    ).then(
      (lists) => {
        if (cancelled) return;
        setEvents(lists.flat());
        setEventsError(null);
      },
      (err: unknown) => !cancelled && setEventsError(err),
    );
    return () => {
      cancelled = true;
    };
    // reload when the alert changes (new occurrence, ack) or the home's devices arrive
  }, [alert?.id, version, home]);

  if (!alert) {
    return (
      <section class="detail">
        <p>
          <a href="#/queue">← {t('detail.backToQueue')}</a>
        </p>
        {alertError ? (
          <ErrorBox message={describeError(alertError, t)} />
        ) : (
          <p class="empty">{t('app.loading')}</p>
        )}
      </section>
    );
  }

  const name = staff.name;
  const shownHome = home && liveHome(home, live);
  const timeline = buildTimeline(alert, events, t, name, lang);

  return (
    <section class="detail" aria-labelledby="detail-title">
      <p>
        <a href="#/queue">← {t('detail.backToQueue')}</a>
      </p>
      <header
        class={`detail-head ${kindClass(alert.kind)}`}
        data-alert-id={alert.id}
        data-status={alert.status}
      >
        <KindIcon kind={alert.kind} size={40} />
        <div class="detail-head-text">
          <h1 id="detail-title">{localTitle(alert.title, lang)}</h1>
          <AlertBadges alert={alert} />
          <p class="muted">
            {t('detail.raisedAt', { time: formatTime(alert.raisedAt, lang) })} · {headState(alert)}
          </p>
        </div>
        <AckButton alert={alert} onChanged={changed} />
      </header>
      <div class="detail-grid">
        <div class="detail-col">
          {shownHome ? (
            <CallPanel home={shownHome} />
          ) : (
            <section class="panel">
              <h2>{t('detail.call')}</h2>
              {homeError ? <ErrorBox message={describeError(homeError, t)} /> : <p>{t('app.loading')}</p>}
            </section>
          )}
          <AlertActions
            alert={alert}
            staff={staff.list}
            staffError={staff.error ? describeError(staff.error, t) : null}
            selfId={session.staff.id}
            onChanged={changed}
          />
          <NotificationsPanel alert={alert} />
        </div>
        <div class="detail-col">
          {shownHome && <ResidentPanel home={shownHome} />}
          {shownHome && (
            <section class="panel" aria-labelledby="devices-title">
              <h2 id="devices-title">{t('detail.devices')}</h2>
              <DeviceTable devices={shownHome.devices} now={now} />
            </section>
          )}
          <Timeline entries={timeline} note={eventsError ? describeError(eventsError, t) : null} />
        </div>
      </div>
    </section>
  );

  function changed(a: Alert) {
    setFetched(a);
    live.applyAlert(a);
  }

  function headState(a: Alert): string {
    if (a.status === 'resolved') return t('detail.resolvedAt', { time: formatTime(a.resolvedAt, lang) });
    if (a.status === 'acknowledged' && a.acknowledgedAt)
      return t('detail.acknowledgedAt', {
        time: formatTime(a.acknowledgedAt, lang),
        name: a.acknowledgedBy ? name(a.acknowledgedBy) : '—',
      });
    return t('detail.waiting', { age: formatAge(now - Date.parse(a.raisedAt), t) });
  }
}
