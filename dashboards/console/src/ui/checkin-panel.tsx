import { useId, useRef, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Home, HomeCheckins, HomeRhythm } from '../api/types';
import { formatTime } from '../format/time';
import { type Translate, useI18n } from '../i18n/i18n';
import { ErrorBox } from './error-box';
import { useAction } from './use-action';

const hours = (minutes: number) => Math.round((minutes / 60) * 10) / 10;

/** One line on the home card: the last 30 days of check-in requests, misses called out in words. */
export function CheckinSummary({ home }: { home: Home }) {
  const { t, lang } = useI18n();
  const c = home.checkins;
  const r = home.rhythm;
  if (!c || !r) return null;
  const m = c.last30Days;
  return (
    <p class="checkin-summary" data-testid="checkin-summary">
      <span class={m.missed > 0 ? 'health bad' : ''}>
        {t('checkin.last30', { sent: m.sent, answered: m.answered + m.activity, missed: m.missed })}
      </span>
      {m.capped > 0 && <span class="muted"> · {t('checkin.capped', { n: m.capped })}</span>}
      {c.pending && (
        <span class="badge sev-high">
          {t('checkin.pending', { time: formatTime(c.pending.answerBy, lang) })}
        </span>
      )}
      <span class="muted"> · {rhythmStatus(r, t)}</span>
    </p>
  );
}

/** Today's weekday (0 = Sunday) in the home's zone, as the hub's profile is. */
function weekdayIn(timeZone: string): number {
  const name = new Intl.DateTimeFormat('en-US', { weekday: 'short', timeZone }).format(new Date());
  return Math.max(0, ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(name));
}

function rhythmStatus(r: HomeRhythm, t: Translate): string {
  if (r.status === 'off') return t('rhythm.off');
  if (r.status === 'override') return t('rhythm.override', { hours: r.override?.askAfterHours ?? '' });
  if (r.status === 'learning') return t('rhythm.learning', { seen: r.daysSeen, days: r.learnDays });
  return t('rhythm.learned');
}

/**
 * What the hub learned of the resident's quiet spells (loaded on opening: resident data, audited),
 * the latest requests, and the staff override: ask after N hours, back to what was learned, or
 * forget and learn afresh.
 */
export function RhythmPanel({ home }: { home: Home }) {
  const { t } = useI18n();
  const [detail, setDetail] = useState<{ rhythm: HomeRhythm; checkins: HomeCheckins } | null>(null);
  const [load, loading] = useAction(async () => {
    const h = await api.home(home.id);
    if (h.rhythm && h.checkins) setDetail({ rhythm: h.rhythm, checkins: h.checkins });
  });
  return (
    <details
      class="rhythm"
      onToggle={(e) => {
        if ((e.currentTarget as HTMLDetailsElement).open && !detail) void load();
      }}
    >
      <summary>{t('rhythm.title')}</summary>
      <ErrorBox message={loading.error} onDismiss={loading.clear} />
      {detail && (
        <RhythmDetail homeId={home.id} timeZone={home.timezone} detail={detail} onChanged={setDetail} />
      )}
    </details>
  );
}

function RhythmDetail({
  homeId,
  timeZone,
  detail,
  onChanged,
}: {
  homeId: string;
  timeZone: string;
  detail: { rhythm: HomeRhythm; checkins: HomeCheckins };
  onChanged: (d: { rhythm: HomeRhythm; checkins: HomeCheckins }) => void;
}) {
  const { t, lang } = useI18n();
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const r = detail.rhythm;
  const [askAfter, setAskAfter] = useState(r.override ? String(r.override.askAfterHours) : '');
  const [change, state] = useAction(async (body: { askAfterHours: number | null } | { forget: true }) => {
    onChanged(await api.setRhythm(homeId, body));
  });
  const today = weekdayIn(timeZone);
  const row = r.askAfterMinutes?.[today] ?? [];
  return (
    <div class="rhythm-detail">
      <p>
        {rhythmStatus(r, t)} · {t('rhythm.max', { hours: r.maxHours, wait: r.waitMinutes })}
        {r.dailyAt && ` · ${t('rhythm.daily', { time: r.dailyAt })}`}
      </p>
      {row.length === 24 && (
        <table class="table rhythm-hours">
          <caption>{t('rhythm.profile')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('rhythm.hour')}</th>
              <th scope="col">{t('rhythm.askAfter')}</th>
            </tr>
          </thead>
          <tbody>
            {[0, 3, 6, 8, 10, 12, 14, 16, 18, 20, 22].map((hour) => (
              <tr key={hour}>
                <th scope="row">{`${String(hour).padStart(2, '0')}:00`}</th>
                <td>{t('rhythm.hours', { h: hours(row[hour] ?? 0) })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(detail.checkins.recent?.length ?? 0) > 0 && (
        <ul class="checkin-recent">
          {detail.checkins.recent?.slice(0, 5).map((c) => (
            <li key={c.requestId}>
              {formatTime(c.at, lang)} · {t(`checkin.reason.${c.reason}`)} ·{' '}
              <span class={c.outcome === 'missed' ? 'health bad' : ''}>
                {t(`checkin.outcome.${c.outcome}`)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <form
        class="mode-form"
        onSubmit={(e) => {
          e.preventDefault();
          // The field as it is now: a Save right after typing may come before the re-render.
          const value = (input.current?.value ?? askAfter).trim();
          void change(value === '' ? { askAfterHours: null } : { askAfterHours: Number(value) });
        }}
      >
        <span class="field">
          <label for={inputId}>{t('rhythm.overrideLabel')}</label>
          <input
            ref={input}
            id={inputId}
            type="number"
            min={1}
            max={r.maxHours}
            step={0.5}
            value={askAfter}
            onInput={(e) => setAskAfter((e.currentTarget as HTMLInputElement).value)}
          />
        </span>
        <button type="submit" class="btn btn-secondary" disabled={state.busy}>
          {t('rhythm.save')}
        </button>
        <button
          type="button"
          class="btn btn-secondary"
          disabled={state.busy}
          onClick={() => {
            if (window.confirm(t('rhythm.forgetConfirm'))) void change({ forget: true });
          }}
        >
          {t('rhythm.forget')}
        </button>
        <ErrorBox message={state.error} onDismiss={state.clear} />
      </form>
    </div>
  );
}
