import { useEffect, useId, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { CheckinReport, ResponseStats, ResponseTimesReport } from '../api/types';
import { describeError } from '../format/errors';
import { formatPercent, formatSeconds } from '../format/time';
import { useI18n } from '../i18n/i18n';
import { Histogram, ShareBar } from '../ui/charts';
import { ErrorBox } from '../ui/error-box';

const DAY = 86_400_000;
/** Telecare answer targets (TSA): 97.5 % within 60 s, 99 % within 180 s. */
const TARGET_60 = 0.975;
const TARGET_180 = 0.99;

const dateInput = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
/** A date input's day as local midnight, ISO. */
const dayStart = (day: string) => new Date(`${day}T00:00:00`).toISOString();

/** Response times: distribution, shares within 60 s and 180 s, by kind, staff and shift. */
export function ReportsView() {
  const { t } = useI18n();
  const fromId = useId();
  const toId = useId();
  const [from, setFrom] = useState(() => dateInput(Date.now() - 6 * DAY));
  const [to, setTo] = useState(() => dateInput(Date.now()));
  const [report, setReport] = useState<ResponseTimesReport | null>(null);
  const [checkins, setCheckins] = useState<CheckinReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const load = (f = from, tt = to) => {
    setLoading(true);
    setError(null);
    const fromIso = dayStart(f);
    const toIso = new Date(Date.parse(dayStart(tt)) + DAY).toISOString();
    Promise.all([
      api.responseTimes(fromIso, toIso).then(setReport),
      api.checkinReport(fromIso, toIso).then(setCheckins),
    ])
      .catch(setError)
      .finally(() => setLoading(false));
  };
  useEffect(() => load(), []);

  const preset = (days: number) => {
    const f = dateInput(Date.now() - (days - 1) * DAY);
    const tt = dateInput(Date.now());
    setFrom(f);
    setTo(tt);
    load(f, tt);
  };

  return (
    <section class="reports" aria-labelledby="reports-title">
      <h1 id="reports-title" class="view-title">
        {t('reports.title')}
      </h1>
      <form
        class="report-form"
        onSubmit={(e) => {
          e.preventDefault();
          load();
        }}
      >
        <span class="field">
          <label for={fromId}>{t('reports.from')}</label>
          <input
            id={fromId}
            type="date"
            value={from}
            onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)}
          />
        </span>
        <span class="field">
          <label for={toId}>{t('reports.to')}</label>
          <input
            id={toId}
            type="date"
            value={to}
            onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
          />
        </span>
        <button type="submit" class="btn btn-primary" disabled={loading}>
          {t('reports.show')}
        </button>
        <button type="button" class="btn btn-secondary" onClick={() => preset(1)}>
          {t('reports.today')}
        </button>
        <button type="button" class="btn btn-secondary" onClick={() => preset(7)}>
          {t('reports.days', { n: 7 })}
        </button>
        <button type="button" class="btn btn-secondary" onClick={() => preset(30)}>
          {t('reports.days', { n: 30 })}
        </button>
      </form>
      {error ? <ErrorBox message={describeError(error, t)} /> : null}
      {report && <ReportBody report={report} />}
      {checkins && <CheckinTable report={checkins} />}
    </section>
  );
}

function ReportBody({ report }: { report: ResponseTimesReport }) {
  const { t } = useI18n();
  const o = report.overall;
  return (
    <div class="report" data-testid="report">
      <div class="report-top">
        <section class="panel">
          <h2>{t('reports.overall')}</h2>
          <dl class="facts big">
            <dt>{t('reports.count')}</dt>
            <dd>{o.count}</dd>
            <dt>{t('reports.ackMedian')}</dt>
            <dd>{formatSeconds(o.ack.p50, t)}</dd>
            <dt>{t('reports.ackP90')}</dt>
            <dd>{formatSeconds(o.ack.p90, t)}</dd>
            <dt>{t('reports.resolveMedian')}</dt>
            <dd>{formatSeconds(o.resolve.p50, t)}</dd>
          </dl>
          <ShareBar share={o.ackWithin60s} target={TARGET_60} label={t('reports.within60')} />
          <ShareBar share={o.ackWithin180s} target={TARGET_180} label={t('reports.within180')} />
        </section>
        <section class="panel">
          <h2>{t('reports.histogram')}</h2>
          <Histogram buckets={report.ackHistogram} />
        </section>
      </div>
      <StatsTable
        title={t('reports.byKind')}
        rows={Object.entries(report.byKind).map(([k, s]) => [t(`kind.${k}`), s])}
      />
      <StatsTable
        title={t('reports.byStaff')}
        rows={Object.entries(report.byStaff).map(([, s]) => [s.name, s])}
      />
      <StatsTable
        title={t('reports.byShift')}
        rows={Object.entries(report.byShift).map(([k, s]) => [shiftName(k, t), s])}
      />
    </div>
  );
}

function shiftName(key: string, t: (k: string) => string): string {
  const label = t(`shift.${key}`);
  return label === `shift.${key}` ? key : label;
}

function StatsTable({ title, rows }: { title: string; rows: Array<[string, ResponseStats]> }) {
  const { t } = useI18n();
  return (
    <section class="panel">
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p class="muted">{t('reports.noData')}</p>
      ) : (
        <table class="table stats">
          <thead>
            <tr>
              <th scope="col">{t('reports.name')}</th>
              <th scope="col">{t('reports.count')}</th>
              <th scope="col">{t('reports.ackMedian')}</th>
              <th scope="col">{t('reports.ackP90')}</th>
              <th scope="col">{t('reports.resolveMedian')}</th>
              <th scope="col" class="share-col">
                {t('reports.within60')}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([name, s]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{s.count}</td>
                <td>{formatSeconds(s.ack.p50, t)}</td>
                <td>{formatSeconds(s.ack.p90, t)}</td>
                <td>{formatSeconds(s.resolve.p50, t)}</td>
                <td>
                  <ShareBar compact share={s.ackWithin60s} target={TARGET_60} label={name} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Check-in requests per home: the residents who need a visit rather than a beep come first. */
function CheckinTable({ report }: { report: CheckinReport }) {
  const { t, lang } = useI18n();
  const rows = report.homes.filter((h) => h.sent + h.capped > 0);
  return (
    <section class="panel" data-testid="checkin-report">
      <h2>{t('checkin.reportTitle')}</h2>
      {rows.length === 0 ? (
        <p class="muted">{t('checkin.none')}</p>
      ) : (
        <table class="table stats">
          <thead>
            <tr>
              <th scope="col">{t('home.address')}</th>
              <th scope="col">{t('checkin.sent')}</th>
              <th scope="col">{t('checkin.answered')}</th>
              <th scope="col">{t('checkin.byActivity')}</th>
              <th scope="col">{t('checkin.missed')}</th>
              <th scope="col">{t('checkin.notSent')}</th>
              <th scope="col">{t('checkin.answerRate')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((h) => (
              <tr key={h.homeId} data-home-id={h.homeId}>
                <th scope="row">
                  <a href={`#/homes/${encodeURIComponent(h.homeId)}`}>{h.address}</a>
                </th>
                <td>{h.sent}</td>
                <td>{h.answered}</td>
                <td>{h.activity}</td>
                <td>
                  <span class={h.missed > 0 ? 'health bad' : ''}>{h.missed}</span>
                </td>
                <td>{h.capped}</td>
                <td>{formatPercent(h.answerRate, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
