import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { type AdminDevice, adminApi } from './admin-api';
import { adminHref } from './admin-routes';
import { DeviceHealth } from './device-panel';
import { Field } from './field';
import { Pager } from './homes-admin';

const PAGE = 100;
const STATUSES = ['', 'offline', 'never', 'battery', 'unprovisioned'] as const;

/** Every device of the site with its health and last message: what needs a visit. */
export function DevicesAdmin({ now }: { now: number }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ total: number; devices: AdminDevice[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => {
      adminApi
        .devices({ ...(q ? { q } : {}), ...(status ? { status } : {}), offset, limit: PAGE })
        .then(setPage, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    }, 200);
    return () => clearTimeout(timer);
  }, [q, status, offset]);
  return (
    <section aria-labelledby="devices-admin-title">
      <h2 id="devices-admin-title" class="view-title">
        {t('admin.devices.title')}
      </h2>
      <search class="filters">
        <Field id="devices-q" label={t('admin.search')}>
          <input
            id="devices-q"
            type="search"
            value={q}
            onInput={(e) => {
              setOffset(0);
              setQ(e.currentTarget.value);
            }}
          />
        </Field>
        <Field id="devices-status" label={t('admin.devices.show')}>
          <select
            id="devices-status"
            value={status}
            onChange={(e) => {
              setOffset(0);
              setStatus(e.currentTarget.value);
            }}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`admin.devices.status.${s || 'all'}`)}
              </option>
            ))}
          </select>
        </Field>
      </search>
      {error && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      {page && (
        <>
          <p class="summary" role="status">
            {t('admin.devices.count', { n: page.total })}
          </p>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('admin.device.id')}</th>
                <th scope="col">{t('admin.device.kind')}</th>
                <th scope="col">{t('admin.home.title')}</th>
                <th scope="col">{t('devices.state')}</th>
                <th scope="col">{t('admin.device.secret')}</th>
              </tr>
            </thead>
            <tbody>
              {page.devices.map((d) => (
                <tr key={d.id} data-device-id={d.id}>
                  <th scope="row">
                    {d.id}
                    {d.label && <span class="muted small"> · {d.label}</span>}
                  </th>
                  <td>{t(`deviceKind.${d.kind}`)}</td>
                  <td>
                    <a href={adminHref(['homes', d.homeId])}>{d.homeId}</a>
                  </td>
                  <td>
                    <DeviceHealth d={d} now={now} />
                  </td>
                  <td>{t(`admin.secret.${d.secret}`)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} total={page.total} size={PAGE} onMove={setOffset} />
        </>
      )}
    </section>
  );
}
