import { useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { AdminError, adminApi, exportHref, type ImportAnswer, type Problem } from './admin-api';

/**
 * A resident list in, as CSV: checked first (every problem by row and column), then imported whole
 * or not at all. The whole directory out, without secrets, as CSV, YAML or JSON.
 */
export function ImportAdmin({ onImported }: { onImported: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState<string | null>(null);
  const [fileName, setFileName] = useState('');
  const [checked, setChecked] = useState<ImportAnswer | null>(null);
  const [result, setResult] = useState<ImportAnswer | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (dryRun: boolean) => {
    if (text === null) return;
    setBusy(true);
    setError(null);
    try {
      const a = await adminApi.importCsv(text, dryRun);
      if (dryRun) {
        setChecked(a);
        setProblems(a.problems);
      } else {
        setResult(a);
        setChecked(null);
        onImported();
      }
    } catch (err) {
      if (err instanceof AdminError && err.problems.length > 0) setProblems(err.problems);
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="import-title">
      <h2 id="import-title" class="view-title">
        {t('admin.import.title')}
      </h2>
      <p class="muted">{t('admin.import.explain')}</p>
      <div class="field">
        <label for="import-file">{t('admin.import.file')}</label>
        <input
          id="import-file"
          type="file"
          accept=".csv,text/csv"
          onChange={async (e) => {
            const file = e.currentTarget.files?.[0];
            setChecked(null);
            setResult(null);
            setProblems([]);
            setFileName(file?.name ?? '');
            setText(file ? await file.text() : null);
          }}
        />
      </div>
      <div class="form-actions">
        <button
          type="button"
          class="btn btn-secondary"
          disabled={text === null || busy}
          onClick={() => void run(true)}
        >
          {t('admin.import.check')}
        </button>
        <button
          type="button"
          class="btn btn-primary"
          disabled={!checked || checked.problems.length > 0 || busy}
          onClick={() => void run(false)}
        >
          {t('admin.import.apply')}
        </button>
      </div>
      {checked && checked.problems.length === 0 && (
        <p class="notice" role="status">
          {t('admin.import.ready', {
            file: fileName,
            homes: checked.homes.created,
            homesUpdated: checked.homes.updated,
            devices: checked.devices.created,
            devicesUpdated: checked.devices.updated,
          })}
        </p>
      )}
      {result && (
        <p class="notice" role="status">
          {t('admin.import.done', {
            homes: result.homes.created,
            devices: result.devices.created,
            updated: result.updated,
          })}
        </p>
      )}
      {error && problems.length === 0 && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      {problems.length > 0 && (
        <>
          <p class="error-box" role="alert">
            {t('admin.import.problems', { n: problems.length })}
          </p>
          <table class="table import-problems">
            <thead>
              <tr>
                <th scope="col">{t('admin.import.row')}</th>
                <th scope="col">{t('admin.import.column')}</th>
                <th scope="col">{t('admin.import.problem')}</th>
              </tr>
            </thead>
            <tbody>
              {problems.slice(0, 500).map((p, i) => (
                <tr key={i}>
                  <td>{p.row ?? '—'}</td>
                  <td>
                    <code>{p.field || '—'}</code>
                  </td>
                  <td>{p.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2 class="view-title">{t('admin.export.title')}</h2>
      <p class="muted">{t('admin.export.explain')}</p>
      <p class="form-actions">
        <a class="btn btn-secondary" href={exportHref('csv')} download="carehub-directory.csv">
          CSV
        </a>
        <a class="btn btn-secondary" href={exportHref('yaml')} download="carehub-directory.yaml">
          YAML
        </a>
        <a class="btn btn-secondary" href={exportHref('json')} download="carehub-directory.json">
          JSON
        </a>
      </p>
    </section>
  );
}
