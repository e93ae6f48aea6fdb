import type { Home } from '../api/types';
import type { LiveState } from '../feed/live-state';
import { useI18n } from '../i18n/i18n';
import { groupIncidents, type Incident } from '../queue/sort';
import { AlertCard } from '../ui/alert-card';

/** The live queue: incidents ordered by their most urgent alert, oldest first within a severity. */
export function QueueView({ live, now, homes }: { live: LiveState; now: number; homes: Map<string, Home> }) {
  const { t } = useI18n();
  const incidents = groupIncidents(live.book.list());
  return (
    <section class="queue" aria-labelledby="queue-title">
      <h1 id="queue-title" class="view-title">
        {t('queue.title')}
      </h1>
      {!live.ready ? (
        <p class="empty">{t('queue.loading')}</p>
      ) : incidents.length === 0 ? (
        <p class="empty">{t('queue.empty')}</p>
      ) : (
        <ol class="incidents">
          {incidents.map((inc) => (
            <IncidentItem key={inc.id} incident={inc} now={now} home={homes.get(inc.homeId)} live={live} />
          ))}
        </ol>
      )}
    </section>
  );
}

function IncidentItem({
  incident,
  now,
  home,
  live,
}: {
  incident: Incident;
  now: number;
  home: Home | undefined;
  live: LiveState;
}) {
  const { t } = useI18n();
  const grouped = incident.alerts.length > 1;
  return (
    <li class={grouped ? 'incident incident-grouped' : 'incident'} data-incident-id={incident.id}>
      {grouped && (
        <p class="incident-head">
          {t('queue.incident', { n: incident.alerts.length, place: home?.address ?? incident.homeId })}
        </p>
      )}
      <ul class="incident-alerts">
        {incident.alerts.map((a) => (
          <AlertCard key={a.id} alert={a} now={now} home={home} live={live} />
        ))}
      </ul>
    </li>
  );
}
