import type { Alert } from '../api/types';
import { useI18n } from '../i18n/i18n';

/** Severity, status, escalation, repeats, resident cancel and assignment, as short labels. */
export function AlertBadges({ alert, staffName }: { alert: Alert; staffName?: (id: string) => string }) {
  const { t } = useI18n();
  const name = (id: string) => staffName?.(id) ?? id;
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
        <span class="badge badge-repeat">{t('badge.occurrences', { n: alert.occurrences })}</span>
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
