import type { Alert } from '../api/types';
import { hasKey, useI18n } from '../i18n/i18n';
import { useStaffName } from './staff-names';

/** "Pressed 2 times", "Smoke detected 2 times": each kind says what repeated, in its own words. */
export function repeatKey(kind: string, lang: string): string {
  const own = `badge.occurrences.${kind}`;
  return hasKey(lang, own) ? own : 'badge.occurrences';
}

/** Severity, status, escalation, repeats, resident cancel and assignment, as short labels. */
export function AlertBadges({ alert }: { alert: Alert }) {
  const { t, lang } = useI18n();
  const name = useStaffName();
  return (
    <span class="badges">
      <span class={`badge sev-${alert.severity}`}>{t(`severity.${alert.severity}`)}</span>
      <span class={`badge status-${alert.status}`}>
        {alert.status === 'acknowledged' && alert.acknowledgedBy
          ? t('status.acknowledgedBy', { name: name(alert.acknowledgedBy) })
          : t(`status.${alert.status}`)}
      </span>
      {alert.escalationLevel > 0 && (
        <span class="badge badge-escalated">{t('badge.escalation', { level: alert.escalationLevel })}</span>
      )}
      {alert.occurrences > 1 && (
        <span class="badge badge-repeat">{t(repeatKey(alert.kind, lang), { n: alert.occurrences })}</span>
      )}
      {alert.cancelledByResident && (
        <span class="badge badge-cancelled">{t('badge.cancelledByResident')}</span>
      )}
      {alert.assignedTo && (
        <span class="badge badge-assigned">{t('badge.assigned', { name: name(alert.assignedTo) })}</span>
      )}
    </span>
  );
}
