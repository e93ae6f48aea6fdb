import { useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { AdminError, adminApi, type GridRow, problemsByField } from './admin-api';
import { ConfirmButton, Field, inputProps } from './field';

/** The site's grids: the parts duty staff watch. */
export function GridsAdmin({ grids, onChanged }: { grids: GridRow[]; onChanged: () => void }) {
  const { t } = useI18n();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const fail = (err: unknown) => {
    setErrors(problemsByField(err));
    setError(
      err instanceof AdminError && err.problems.length > 0
        ? null
        : err instanceof Error
          ? err.message
          : String(err),
    );
  };
  return (
    <section aria-labelledby="grids-admin-title">
      <h2 id="grids-admin-title" class="view-title">
        {t('admin.grids.title')}
      </h2>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{t('admin.grids.name')}</th>
            <th scope="col">{t('admin.grids.homes')}</th>
            <th scope="col">{t('admin.grids.staff')}</th>
            <th scope="col">
              <span class="sr-only">{t('admin.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {grids.map((g) => (
            <tr key={g.id} data-grid-id={g.id}>
              <th scope="row">
                {g.name} <span class="muted small">({g.id})</span>
              </th>
              <td>{g.homes}</td>
              <td>{g.staff}</td>
              <td>
                <ConfirmButton
                  label={t('admin.grids.remove')}
                  question={t('admin.grids.removeQuestion', { name: g.name })}
                  confirm={t('admin.grids.removeConfirm')}
                  cancel={t('admin.cancel')}
                  onConfirm={() => void adminApi.deleteGrid(g.id).then(onChanged, fail)}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {error && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      <form
        class="admin-form panel"
        noValidate
        aria-label={t('admin.grids.add')}
        onSubmit={(e) => {
          e.preventDefault();
          adminApi.createGrid({ id: id.trim(), name: name.trim() }).then(() => {
            setId('');
            setName('');
            setErrors({});
            setError(null);
            onChanged();
          }, fail);
        }}
      >
        <h3>{t('admin.grids.add')}</h3>
        <Field id="grid-id" label={t('admin.grids.id')} error={errors.id} hint={t('admin.idHint')}>
          <input
            {...inputProps('grid-id', errors.id)}
            value={id}
            onInput={(e) => setId(e.currentTarget.value)}
          />
        </Field>
        <Field id="grid-name" label={t('admin.grids.name')} error={errors.name}>
          <input
            {...inputProps('grid-name', errors.name)}
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </Field>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary">
            {t('admin.grids.addButton')}
          </button>
        </div>
      </form>
    </section>
  );
}
