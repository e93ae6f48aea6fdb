import type { Alert, DeviceEvent } from '../api/types';
import { formatTime } from '../format/time';
import { hasKey, useI18n } from '../i18n/i18n';

export interface TimelineEntry {
  at: string;
  key: string;
  what: string;
  by?: string | undefined;
  kind: 'milestone' | 'note' | 'event';
}

/** Alert milestones, notes and the home's device events, in time order. */
export function buildTimeline(
  alert: Alert,
  events: Array<DeviceEvent & { deviceId: string; deviceLabel: string }>,
  t: (k: string, p?: Record<string, string | number>) => string,
  name: (id: string) => string,
  lang: string,
): TimelineEntry[] {
  const out: TimelineEntry[] = [
    { at: alert.raisedAt, key: 'raised', what: t('timeline.raised'), kind: 'milestone' },
  ];
  if (alert.acknowledgedAt) {
    out.push({
      at: alert.acknowledgedAt,
      key: 'ack',
      what: t('timeline.acknowledged'),
      by: alert.acknowledgedBy ? name(alert.acknowledgedBy) : undefined,
      kind: 'milestone',
    });
  }
  if (alert.resolvedAt) {
    out.push({
      at: alert.resolvedAt,
      key: 'resolved',
      what: t('timeline.resolved', { outcome: alert.outcome ? t(`outcome.${alert.outcome}`) : '—' }),
      by: alert.resolvedBy ? name(alert.resolvedBy) : undefined,
      kind: 'milestone',
    });
  }
  alert.notes.forEach((n, i) => {
    out.push({
      at: n.at,
      key: `note-${i}`,
      what: n.texts?.[lang] ?? n.text,
      by: n.by === 'system' ? t('timeline.system') : name(n.by),
      kind: 'note',
    });
  });
  for (const e of events) {
    const extra = [
      e.battery !== undefined ? `${t('devices.battery')} ${e.battery}%` : '',
      e.rssi !== undefined ? `RSSI ${e.rssi}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    // Every type of the contract has words; a type of a newer hub is named, never shown as a key.
    const label = hasKey(lang, `event.${e.type}`) ? t(`event.${e.type}`) : t('event.other', { type: e.type });
    out.push({
      at: e.at,
      key: `ev-${e.deviceId}-${e.seq}`,
      what: `${e.deviceLabel}: ${label}${extra ? ` (${extra})` : ''}`,
      kind: 'event',
    });
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export function Timeline({ entries, note }: { entries: TimelineEntry[]; note?: string | null }) {
  const { t, lang } = useI18n();
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t('detail.timeline')}</h2>
      {note && <p class="muted">{note}</p>}
      <ol class="timeline">
        {entries.map((e) => (
          <li key={e.key} class={`tl-${e.kind}`}>
            <time dateTime={e.at}>{formatTime(e.at, lang)}</time>
            <span class="tl-what">{e.what}</span>
            {e.by && <span class="tl-by">{e.by}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}
