import './admin.css';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { adminApi, type GridRow, setAdminLanguage } from './admin-api';
import { adminHref } from './admin-routes';
import { DevicesAdmin } from './devices-admin';
import { GridsAdmin } from './grids-admin';
import { HomeAdmin } from './home-admin';
import { HomesAdmin } from './homes-admin';
import { ImportAdmin } from './import-admin';
import { InstallerSheet } from './installer-sheet';
import { StaffAdmin } from './staff-admin';

const TABS = ['homes', 'devices', 'staff', 'grids', 'import'] as const;

/**
 * Site administration (admins only; the hub refuses the calls to anyone else): homes with their
 * residents and contacts, devices with health and last seen, staff with roles and grids, grids,
 * CSV import and export, and each home's printable installer sheet. Paths: #/admin/<tab>/…
 */
export function AdminView({ path, now }: { path: string[]; now: number }) {
  const { t, lang } = useI18n();
  setAdminLanguage(lang);
  const [grids, setGrids] = useState<GridRow[]>([]);
  const loadGrids = useCallback(() => void adminApi.grids().then(setGrids, () => setGrids([])), []);
  useEffect(loadGrids, [loadGrids]);
  const [tab = 'homes', sub] = path;

  if (tab === 'sheet' && sub) return <InstallerSheet homeId={sub} />;

  let body: preact.ComponentChild;
  switch (tab) {
    case 'devices':
      body = <DevicesAdmin now={now} />;
      break;
    case 'staff':
      body = <StaffAdmin grids={grids} />;
      break;
    case 'grids':
      body = <GridsAdmin grids={grids} onChanged={loadGrids} />;
      break;
    case 'import':
      body = <ImportAdmin onImported={loadGrids} />;
      break;
    default:
      body =
        sub && sub !== '+new' ? (
          <HomeAdmin key={sub} id={sub} grids={grids} now={now} />
        ) : (
          <HomesAdmin grids={grids} adding={sub === '+new'} />
        );
  }
  return (
    <section class="admin" aria-labelledby="admin-title">
      <h1 id="admin-title" class="view-title">
        {t('admin.title')}
      </h1>
      <nav class="admin-tabs" aria-label={t('admin.sections')}>
        {TABS.map((name) => (
          <a key={name} href={adminHref([name])} aria-current={tab === name ? 'page' : undefined}>
            {t(`admin.tab.${name}`)}
          </a>
        ))}
      </nav>
      {body}
    </section>
  );
}
