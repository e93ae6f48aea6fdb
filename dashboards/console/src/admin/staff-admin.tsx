import { useCallback, useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { AdminError, adminApi, type GridRow, problemsByField, type StaffRow } from './admin-api';
import { ConfirmButton, Field, fieldId, inputProps } from './field';

const ROLES = ['duty', 'supervisor', 'admin'] as const;

/** Staff with their roles and grids: add, change (a new password ends their sessions), remove. */
export function StaffAdmin({ grids }: { grids: GridRow[] }) {
  const { t } = useI18n();
  const [staff, setStaff] = useState<StaffRow[]>([]);
  const [editing, setEditing] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    adminApi
      .staff()
      .then(setStaff, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, []);
  useEffect(load, [load]);
  return (
    <section aria-labelledby="staff-admin-title">
      <h2 id="staff-admin-title" class="view-title">
        {t('admin.staff.title')}
      </h2>
      {error && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{t('admin.staff.name')}</th>
            <th scope="col">{t('admin.staff.role')}</th>
            <th scope="col">{t('admin.staff.grids')}</th>
            <th scope="col">
              <span class="sr-only">{t('admin.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {staff.map((s) => (
            <tr key={s.id} data-staff-id={s.id}>
              <th scope="row">
                {s.name} <span class="muted small">({s.id})</span>
              </th>
              <td>{t(`admin.role.${s.role}`)}</td>
              <td>{s.role === 'duty' ? s.grids.join(', ') : t('admin.staff.allGrids')}</td>
              <td class="row-actions">
                <button
                  type="button"
                  class="btn btn-secondary"
                  onClick={() => setEditing(editing === s.id ? null : s.id)}
                >
                  {t('admin.edit')}
                </button>
                <ConfirmButton
                  label={t('admin.staff.remove')}
                  question={t('admin.staff.removeQuestion', { name: s.name })}
                  confirm={t('admin.staff.removeConfirm')}
                  cancel={t('admin.cancel')}
                  onConfirm={() =>
                    void adminApi
                      .deleteStaff(s.id)
                      .then(load, (err: unknown) =>
                        setError(err instanceof Error ? err.message : String(err)),
                      )
                  }
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && (
        <StaffForm
          key={editing}
          grids={grids}
          staff={staff.find((s) => s.id === editing)}
          onSaved={() => {
            setEditing(null);
            load();
          }}
        />
      )}
      <StaffForm key="new" grids={grids} onSaved={load} />
    </section>
  );
}

function StaffForm({
  staff,
  grids,
  onSaved,
}: {
  staff?: StaffRow | undefined;
  grids: GridRow[];
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const create = staff === undefined;
  const [id, setId] = useState(staff?.id ?? '');
  const [name, setName] = useState(staff?.name ?? '');
  const [role, setRole] = useState<string>(staff?.role ?? 'duty');
  const [chosen, setChosen] = useState<string[]>(staff?.grids ?? []);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [ids] = useState(() => ({
    id: fieldId('staff-id'),
    name: fieldId('staff-name'),
    role: fieldId('staff-role'),
    pw: fieldId('staff-pw'),
  }));
  const submit = async () => {
    setGeneral(null);
    const body: Record<string, unknown> = { name: name.trim(), role, grids: chosen };
    if (password) body.password = password;
    try {
      if (create) await adminApi.createStaff({ id: id.trim(), ...body });
      else await adminApi.patchStaff(staff.id, body);
      setErrors({});
      setPassword('');
      if (create) {
        setId('');
        setName('');
        setChosen([]);
      }
      onSaved();
    } catch (err) {
      setErrors(problemsByField(err));
      setGeneral(
        err instanceof AdminError && err.problems.length > 0
          ? null
          : err instanceof Error
            ? err.message
            : String(err),
      );
    }
  };
  return (
    <form
      class="admin-form panel"
      noValidate
      aria-label={create ? t('admin.staff.add') : t('admin.staff.edit', { name: staff.name })}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3>{create ? t('admin.staff.add') : t('admin.staff.edit', { name: staff.name })}</h3>
      {create && (
        <Field id={ids.id} label={t('admin.staff.id')} error={errors.id} hint={t('admin.idHint')}>
          <input
            {...inputProps(ids.id, errors.id)}
            value={id}
            onInput={(e) => setId(e.currentTarget.value)}
          />
        </Field>
      )}
      <Field id={ids.name} label={t('admin.staff.name')} error={errors.name}>
        <input
          {...inputProps(ids.name, errors.name)}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </Field>
      <Field id={ids.role} label={t('admin.staff.role')} error={errors.role}>
        <select
          {...inputProps(ids.role, errors.role)}
          value={role}
          onChange={(e) => setRole(e.currentTarget.value)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`admin.role.${r}`)}
            </option>
          ))}
        </select>
      </Field>
      <fieldset class="channels" aria-invalid={errors.grids ? 'true' : 'false'}>
        <legend>{t('admin.staff.grids')}</legend>
        {grids.map((g) => (
          <label key={g.id} class="check">
            <input
              type="checkbox"
              checked={chosen.includes(g.id)}
              onChange={(e) =>
                setChosen(e.currentTarget.checked ? [...chosen, g.id] : chosen.filter((x) => x !== g.id))
              }
            />
            {g.name}
          </label>
        ))}
        {(errors.grids ?? Object.entries(errors).find(([k]) => k.startsWith('grids.'))?.[1]) && (
          <span class="field-error" role="alert">
            {errors.grids ?? Object.entries(errors).find(([k]) => k.startsWith('grids.'))?.[1]}
          </span>
        )}
      </fieldset>
      <Field
        id={ids.pw}
        label={create ? t('admin.staff.password') : t('admin.staff.newPassword')}
        error={errors.password}
        hint={t('admin.staff.passwordHint')}
      >
        <input
          {...inputProps(ids.pw, errors.password)}
          type="password"
          autoComplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </Field>
      {general && (
        <p class="error-box" role="alert">
          {general}
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary">
          {create ? t('admin.staff.addButton') : t('admin.save')}
        </button>
      </div>
    </form>
  );
}
