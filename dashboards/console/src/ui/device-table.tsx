import type { Device } from '../api/types';
import { formatAge } from '../format/time';
import { useI18n } from '../i18n/i18n';

/** Device health: online, battery, last seen. Problems are said in words, not only colour. */
export function DeviceTable({ devices, now }: { devices: Device[]; now: number }) {
  const { t } = useI18n();
  if (devices.length === 0) return <p class="muted">{t('devices.none')}</p>;
  return (
    <table class="table devices">
      <thead>
        <tr>
          <th scope="col">{t('devices.device')}</th>
          <th scope="col">{t('devices.state')}</th>
          <th scope="col">{t('devices.battery')}</th>
          <th scope="col">{t('devices.lastSeen')}</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((d) => {
          const low = d.batteryLow === true || (d.battery !== null && d.battery <= 20);
          return (
            <tr key={d.id} data-device-id={d.id}>
              <th scope="row">
                {d.label ?? d.id}
                <span class="muted small"> · {t(`deviceKind.${d.kind}`)}</span>
              </th>
              <td>
                <span class={`health ${d.online === true ? 'ok' : d.online === false ? 'bad' : 'unknown'}`}>
                  {d.online === true
                    ? t('devices.online')
                    : d.online === false
                      ? t('devices.offline')
                      : t('devices.unknown')}
                </span>
              </td>
              <td>
                <span class={low ? 'health bad' : ''}>
                  {d.battery === null ? '—' : `${d.battery}%`}
                  {low && ` ${t('devices.batteryLow')}`}
                </span>
              </td>
              <td title={d.lastSeen ?? ''}>
                {d.lastSeen
                  ? t('devices.ago', { age: formatAge(now - Date.parse(d.lastSeen), t) })
                  : t('devices.never')}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
