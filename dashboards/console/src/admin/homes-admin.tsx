import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { adminApi, type GridRow, type HomeRow } from './admin-api';
import { adminHref } from './admin-routes';
import { Field } from './field';
import { HomeForm } from './home-form';

const PAGE = 50;

/** Every home of the site, searched and paged; a new one added here. */
export function HomesAdmin({ grids, adding }: { grids: GridRow[]; adding: boolean }) {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [grid, setGrid] = useState('');
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ total: number; homes: HomeRow[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const timer = setTimeout(() => {
      adminApi
        .homes({ ...(q ? { q } : {}), ...(grid ? { grid } : {}), offset, limit: PAGE })
        .then(setPage, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    }, 200);
    return () => clearTimeout(timer);
  }, [q, grid, offset]);

  if (adding)
    return (
      <section class="panel" aria-labelledby="new-home-title">
        <h2 id="new-home-title">{t('admin.home.new')}</h2>
        <HomeForm
          grids={grids}
          onSave={async (body) => {
            const home = await adminApi.createHome(body);
            location.hash = adminHref(['homes', home.id]);
          }}
          onCancel={() => {
            location.hash = adminHref(['homes']);
          }}
        />
      </section>
    );

  return (
    <section aria-labelledby="homes-admin-title">
      <div class="view-head">
        <h2 id="homes-admin-title" class="view-title">
          {t('admin.homes.title')}
        </h2>
        <a class="btn btn-primary" href={adminHref(['homes', '+new'])}>
          {t('admin.home.new')}
        </a>
      </div>
      <search class="filters">
        <Field id="homes-q" label={t('admin.search')}>
          <input
            id="homes-q"
            type="search"
            value={q}
            onInput={(e) => {
              setOffset(0);
              setQ(e.currentTarget.value);
            }}
          />
        </Field>
        <Field id="homes-grid" label={t('admin.home.grid')}>
          <select
            id="homes-grid"
            value={grid}
            onChange={(e) => {
              setOffset(0);
              setGrid(e.currentTarget.value);
            }}
          >
            <option value="">{t('admin.all')}</option>
            {grids.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
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
            {t('admin.homes.count', { n: page.total })}
          </p>
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('admin.home.address')}</th>
                <th scope="col">{t('admin.home.grid')}</th>
                <th scope="col">{t('admin.home.residents')}</th>
                <th scope="col">{t('admin.devices.title')}</th>
              </tr>
            </thead>
            <tbody>
              {page.homes.map((h) => (
                <tr key={h.id} data-home-id={h.id}>
                  <th scope="row">
                    <a href={adminHref(['homes', h.id])}>{h.address}</a>{' '}
                    <span class="muted small">({h.id})</span>
                  </th>
                  <td>{h.grid}</td>
                  <td>{h.residents.map((r) => r.name).join(', ') || '—'}</td>
                  <td>
                    {h.devices}
                    {h.offline > 0 && (
                      <span class="health bad"> · {t('admin.homes.offline', { n: h.offline })}</span>
                    )}
                    {h.unprovisioned > 0 && (
                      <span class="health unknown">
                        {' '}
                        · {t('admin.homes.unprovisioned', { n: h.unprovisioned })}
                      </span>
                    )}
                  </td>
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

export function Pager({
  offset,
  total,
  size,
  onMove,
}: {
  offset: number;
  total: number;
  size: number;
  onMove: (o: number) => void;
}) {
  const { t } = useI18n();
  if (total <= size) return null;
  return (
    <nav class="pager" aria-label={t('admin.pages')}>
      <button
        type="button"
        class="btn btn-secondary"
        disabled={offset === 0}
        onClick={() => onMove(Math.max(0, offset - size))}
      >
        {t('admin.previous')}
      </button>
      <span>{t('admin.pageOf', { from: offset + 1, to: Math.min(total, offset + size), total })}</span>
      <button
        type="button"
        class="btn btn-secondary"
        disabled={offset + size >= total}
        onClick={() => onMove(offset + size)}
      >
        {t('admin.next')}
      </button>
    </nav>
  );
}
