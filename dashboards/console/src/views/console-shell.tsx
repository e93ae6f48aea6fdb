import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AdminView } from '../admin/admin-view';
import { api } from '../api/endpoints';
import type { Alert, Session } from '../api/types';
import { LiveState } from '../feed/live-state';
import { describeError } from '../format/errors';
import { localTitle, useI18n } from '../i18n/i18n';
import { sounding } from '../queue/sort';
import { patternFor } from '../sound/alarm-policy';
import { notifyIfHidden } from '../sound/notifier';
import { sharedAlarm } from '../sound/shared-alarm';
import { ConnectionBanner, CriticalStrip, SoundBlockedBanner } from '../ui/banners';
import { ErrorBox } from '../ui/error-box';
import { Header } from '../ui/header';
import { navigate, useLive, useNow, useRoute } from '../ui/hooks';
import { StaffContext, useStaffDirectory } from '../ui/staff-names';
import { useHomes } from '../ui/use-homes';
import { AlertDetailView } from './alert-detail-view';
import { HomesView } from './homes-view';
import { QueueView } from './queue-view';
import { ReportsView } from './reports-view';

/** The logged-in console: live feed, alarm, header and banners around the current view. */
export function ConsoleShell({ session, onLogout }: { session: Session; onLogout: () => void }) {
  const { lang, t } = useI18n();
  const [muted, setMuted] = useState(false);
  const [muteError, setMuteError] = useState<string | null>(null);
  const [, setAudioTick] = useState(0);
  const mutedRef = useRef(muted);
  mutedRef.current = muted;
  const langRef = useRef(lang);
  langRef.current = lang;
  const tRef = useRef(t);
  tRef.current = t;

  // Stable across language switches, so the feed is never rebuilt by a re-render.
  const setMute = useCallback((next: boolean) => {
    setMuted(next);
    setMuteError(null);
    api.mute(next).catch((err: unknown) => {
      const tr = tRef.current;
      setMuteError(`${tr('sound.muteNotRecorded')} ${describeError(err, tr)}`);
    });
  }, []);

  const live = useMemo(
    () =>
      new LiveState({
        checkSession: () => void api.me().catch(() => {}),
        onNews: (alert: Alert, news) => {
          // Safety: muting silences the alarms sounding now; a new critical alert sounds again.
          if (alert.severity === 'critical' && news === 'raised' && mutedRef.current) setMute(false);
          const title = localTitle(alert.title, langRef.current);
          notifyIfHidden(
            alert.id,
            title,
            news === 'repeated' ? `×${alert.occurrences}` : alert.raisedAt,
            alert.severity === 'critical',
            () => navigate({ view: 'alert', id: alert.id }),
          );
        },
      }),
    [setMute],
  );
  useLive(live);
  const now = useNow(1000);
  const route = useRoute();
  const homes = useHomes(live);
  const staff = useStaffDirectory(session);

  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);

  // Any click or key press may unlock audio (browsers need a gesture after a reload).
  useEffect(() => {
    const unlock = () => void sharedAlarm.unlock().then(() => setAudioTick((n) => n + 1));
    addEventListener('pointerdown', unlock, true);
    addEventListener('keydown', unlock, true);
    return () => {
      removeEventListener('pointerdown', unlock, true);
      removeEventListener('keydown', unlock, true);
      sharedAlarm.play(null);
    };
  }, []);

  const alerts = live.book.list();
  const loud = sounding(alerts);
  const pattern = patternFor(loud, muted);
  sharedAlarm.play(pattern);

  // What the alarm is doing, for people (the sound button) and for tests (data-alarm on <body>).
  useEffect(() => {
    document.body.dataset.alarm = pattern ?? 'off';
    return () => {
      delete document.body.dataset.alarm;
    };
  }, [pattern]);

  useEffect(() => {
    const critical = loud.length;
    document.title = critical > 0 ? `(${critical}) ${t('app.title')}` : t('app.title');
  });

  let view: preact.ComponentChild;
  switch (route.view) {
    case 'alert':
      view = <AlertDetailView id={route.id} live={live} now={now} session={session} staff={staff} />;
      break;
    case 'homes':
      view = (
        <HomesView
          live={live}
          homes={homes}
          now={now}
          focusHome={route.homeId}
          canTest={session.staff.role !== 'duty'}
        />
      );
      break;
    case 'reports':
      view = <ReportsView />;
      break;
    case 'admin':
      view = <AdminView path={route.path} now={now} />;
      break;
    default:
      view = <QueueView live={live} now={now} homes={homes.byId} />;
  }

  return (
    <StaffContext.Provider value={staff}>
      <div class="shell">
        <Header
          session={session}
          route={route}
          openCount={alerts.length}
          connection={live.connection}
          muted={muted}
          onMute={() => setMute(!muted)}
          onLogout={onLogout}
        />
        <div class="banners">
          <ConnectionBanner state={live.connection} now={now} onRetry={() => live.reconnectNow()} />
          <SoundBlockedBanner
            show={sharedAlarm.blocked}
            urgent={loud.length > 0}
            onEnable={() => void sharedAlarm.unlock().then(() => setAudioTick((n) => n + 1))}
          />
          <ErrorBox message={muteError} onDismiss={() => setMuteError(null)} />
          <ErrorBox
            message={live.feedError ? describeError(live.feedError, t) : null}
            onDismiss={() => live.clearFeedError()}
          />
          {route.view !== 'queue' && (
            // The alert open in the detail view is not repeated above it: one Acknowledge button for it.
            <CriticalStrip
              alerts={route.view === 'alert' ? loud.filter((a) => a.id !== route.id) : loud}
              now={now}
              live={live}
            />
          )}
        </div>
        <main id="main" class="main" tabIndex={-1}>
          {view}
        </main>
      </div>
    </StaffContext.Provider>
  );
}
