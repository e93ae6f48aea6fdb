import { useEffect } from 'preact/hooks';
import type { Home } from '../api/types';
import type { LiveState } from '../feed/live-state';
import { describeError } from '../format/errors';
import { formatTime } from '../format/time';
import { useI18n } from '../i18n/i18n';
import { CheckinSummary, RhythmPanel } from '../ui/checkin-panel';
import { DeviceTable } from '../ui/device-table';
import { ErrorBox } from '../ui/error-box';
import { useLive } from '../ui/hooks';
import { ModeControl } from '../ui/mode-control';
import { TestSendPanel } from '../ui/test-send-panel';
import type { HomesData } from '../ui/use-homes';

/** Every home in scope: device health and mode, with a way to set the mode. */
export function HomesView({
  live,
  homes,
  now,
  focusHome,
  canTest = false,
}: {
  live: LiveState;
  homes: HomesData;
  now: number;
  focusHome?: string | undefined;
  /** Supervisors and admins send test messages to contacts. */
  canTest?: boolean;
}) {
  const { t } = useI18n();
  useLive(live);
  const { reload } = homes;
  useEffect(reload, [reload]);
  useEffect(() => {
    if (focusHome) document.getElementById(`home-${focusHome}`)?.scrollIntoView();
  }, [focusHome, homes.list]);

  const list = homes.list ?? [];
  const devices = list.flatMap((h) => h.devices);
  const offline = devices.filter((d) => d.online === false).length;
  const lowBattery = devices.filter(
    (d) => d.batteryLow === true || (d.battery !== null && d.battery <= 20),
  ).length;

  return (
    <section class="homes" aria-labelledby="homes-title">
      <div class="view-head">
        <h1 id="homes-title" class="view-title">
          {t('homes.title')}
        </h1>
        <button type="button" class="btn btn-secondary" onClick={reload} disabled={homes.loading}>
          {t('action.refresh')}
        </button>
      </div>
      {homes.error ? <ErrorBox message={describeError(homes.error, t)} /> : null}
      {homes.list && (
        <p class="summary" role="status">
          {[
            t('homes.count', { n: list.length }),
            t('homes.offline', { n: offline }),
            t('homes.lowBattery', { n: lowBattery }),
          ].join(' · ')}
        </p>
      )}
      <ul class="home-list">
        {list.map((h) => (
          <HomeCard
            key={h.id}
            home={h}
            now={now}
            canTest={canTest}
            onChanged={(updated) => {
              live.modes.set(updated.id, updated.mode);
              homes.replace(updated);
            }}
          />
        ))}
      </ul>
    </section>
  );
}

function HomeCard({
  home,
  now,
  canTest,
  onChanged,
}: {
  home: Home;
  now: number;
  canTest: boolean;
  onChanged: (h: Home) => void;
}) {
  const { t, lang } = useI18n();
  return (
    <li class="panel home-card" id={`home-${home.id}`} data-home-id={home.id}>
      <div class="home-head">
        <h2>{home.address}</h2>
        <span class="muted">
          {t('home.grid')} {home.grid}
        </span>
        <span class={`badge mode-${home.mode.mode}`}>
          {t(`mode.${home.mode.mode}`)}
          {home.mode.until && ` · ${t('home.untilTime', { time: formatTime(home.mode.until, lang) })}`}
        </span>
        {(home.openAlerts ?? 0) > 0 && (
          <a class="badge sev-critical" href="#/queue">
            {t('homes.openAlerts', { n: home.openAlerts ?? 0 })}
          </a>
        )}
      </div>
      <p class="home-residents">
        {home.residents.map((r) => (
          <span key={r.id}>
            {r.name}
            {r.age !== null && ` · ${t('resident.ageShort', { age: r.age })}`}
            {r.wanderingRisk && <span class="badge badge-risk">{t('resident.wanderingRisk')}</span>}
          </span>
        ))}
      </p>
      <DeviceTable devices={home.devices} now={now} />
      <CheckinSummary home={home} />
      <RhythmPanel home={home} />
      <ModeControl key={`${home.mode.mode}-${home.mode.until}`} home={home} onChanged={onChanged} />
      {canTest && <TestSendPanel homeId={home.id} />}
    </li>
  );
}
