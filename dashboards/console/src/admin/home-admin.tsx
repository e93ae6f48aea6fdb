import { useCallback, useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { AdminError, type AdminHome, adminApi, type Change, type GridRow } from './admin-api';
import { adminHref } from './admin-routes';
import { DevicePanel } from './device-panel';
import { ConfirmButton } from './field';
import { HomeForm } from './home-form';

/** One home, as an admin keeps it: its record, its devices, its installer sheet, its history; removing it. */
export function HomeAdmin({ id, grids, now }: { id: string; grids: GridRow[]; now: number }) {
  const { t } = useI18n();
  const [home, setHome] = useState<AdminHome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [changes, setChanges] = useState<Change[]>([]);
  const [removed, setRemoved] = useState(false);
  const [needsForce, setNeedsForce] = useState(false);

  const load = useCallback(() => {
    adminApi
      .home(id)
      .then(setHome, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    adminApi.changes({ homeId: id, limit: 20 }).then(setChanges, () => setChanges([]));
  }, [id]);
  useEffect(load, [load]);

  if (removed)
    return (
      <p class="notice" role="status">
        {t('admin.home.removed', { id })} <a href={adminHref(['homes'])}>{t('admin.back')}</a>
      </p>
    );
  if (error && !home)
    return (
      <p class="error-box" role="alert">
        {error}
      </p>
    );
  if (!home) return <p class="loading">{t('app.loading')}</p>;

  const remove = async (force: boolean) => {
    setError(null);
    try {
      await adminApi.deleteHome(id, force);
      setRemoved(true);
    } catch (err) {
      if (err instanceof AdminError && err.code === 'HUB_ERR_PURGE_REFUSED') setNeedsForce(true);
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div class="home-admin" data-home-id={home.id}>
      <div class="view-head">
        <h2 class="view-title">
          {home.address} <span class="muted small">({home.id})</span>
        </h2>
        <a class="btn btn-primary" href={adminHref(['sheet', home.id])}>
          {t('admin.sheet.open')}
        </a>
      </div>
      <section class="panel" aria-label={t('admin.home.record')}>
        <HomeForm
          key={JSON.stringify(home)}
          home={home}
          grids={grids}
          onSave={async (body, force) => {
            const next = await adminApi.patchHome(home.id, body, force);
            setHome(next);
            setSaved(true);
            load();
          }}
        />
        {saved && (
          <p class="notice" role="status">
            {t('admin.saved')}
          </p>
        )}
      </section>
      <DevicePanel homeId={home.id} devices={home.devices} now={now} onChanged={load} />
      <section class="panel" aria-labelledby="changes-title">
        <h2 id="changes-title">{t('admin.changes.title')}</h2>
        <ChangeList changes={changes} />
      </section>
      <section class="panel danger-zone" aria-label={t('admin.home.remove')}>
        <p>{t('admin.home.removeExplain')}</p>
        {error && (
          <p class="error-box" role="alert">
            {error}
          </p>
        )}
        <ConfirmButton
          label={t('admin.home.remove')}
          question={t('admin.home.removeQuestion', { address: home.address })}
          confirm={needsForce ? t('admin.home.eraseAnyway') : t('admin.home.removeConfirm')}
          cancel={t('admin.cancel')}
          onConfirm={() => void remove(needsForce)}
        />
      </section>
    </div>
  );
}

/** Who changed what, when: the record before and after (the hub keeps no secret in it). */
export function ChangeList({ changes }: { changes: Change[] }) {
  const { t, lang } = useI18n();
  if (changes.length === 0) return <p class="muted">{t('admin.changes.none')}</p>;
  return (
    <ol class="changes">
      {changes.map((c) => (
        <li key={`${c.position}-${c.target}-${c.op}`}>
          <details>
            <summary>
              {new Date(c.at).toLocaleString(lang)} · {c.actor} · {t(`admin.op.${c.op}`)} {c.target}
            </summary>
            <div class="change-diff">
              <div>
                <h3>{t('admin.changes.before')}</h3>
                <pre>{c.before === null ? '—' : JSON.stringify(c.before, null, 2)}</pre>
              </div>
              <div>
                <h3>{t('admin.changes.after')}</h3>
                <pre>{c.after === null ? '—' : JSON.stringify(c.after, null, 2)}</pre>
              </div>
            </div>
          </details>
        </li>
      ))}
    </ol>
  );
}
