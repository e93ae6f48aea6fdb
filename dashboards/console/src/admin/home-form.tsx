import { useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import {
  AdminError,
  type AdminHome,
  type Contact,
  type GridRow,
  problemsByField,
  type Resident,
} from './admin-api';
import { Field, fieldId, inputProps } from './field';

const RELATIONS = ['family', 'grid_worker', 'neighbour', 'doctor', 'other'] as const;
const CHANNELS = ['email', 'webhook', 'sms', 'wecom', 'dingtalk'] as const;

type Draft = {
  id: string;
  address: string;
  grid: string;
  timezone: string;
  residents: Array<Record<keyof Resident, string | boolean>>;
  contacts: Array<{
    name: string;
    relation: string;
    phone: string;
    email: string;
    language: string;
    notify: string[];
  }>;
};

function draftOf(home: AdminHome | undefined, grids: GridRow[]): Draft {
  return {
    id: home?.id ?? '',
    address: home?.address ?? '',
    grid: home?.grid ?? grids[0]?.id ?? '',
    timezone: home?.timezone ?? '',
    residents: (home?.residents ?? []).map((r) => ({
      id: r.id,
      name: r.name,
      birthYear: r.birthYear === undefined ? '' : String(r.birthYear),
      language: r.language ?? '',
      phone: r.phone ?? '',
      notes: r.notes ?? '',
      wanderingRisk: r.wanderingRisk,
    })),
    contacts: (home?.contacts ?? []).map((c: Contact) => ({
      name: c.name,
      relation: c.relation,
      phone: c.phone ?? '',
      email: c.email ?? '',
      language: c.language ?? '',
      notify: c.notify,
    })),
  };
}

/** The body the API takes: empty optional fields left out, a birth year as a number when it is one. */
function bodyOf(d: Draft, create: boolean): Record<string, unknown> {
  const opt = (v: string | boolean) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim()) : v);
  const residents = d.residents.map((r) => {
    const out: Record<string, unknown> = {
      id: opt(r.id) ?? '',
      name: opt(r.name) ?? '',
      wanderingRisk: r.wanderingRisk === true,
    };
    const year = opt(r.birthYear);
    if (year !== undefined) out.birthYear = /^\d+$/.test(String(year)) ? Number(year) : year;
    for (const k of ['language', 'phone', 'notes'] as const) if (opt(r[k]) !== undefined) out[k] = opt(r[k]);
    return out;
  });
  const contacts = d.contacts.map((c) => {
    const out: Record<string, unknown> = { name: c.name.trim(), relation: c.relation, notify: c.notify };
    for (const k of ['phone', 'email', 'language'] as const) if (c[k].trim() !== '') out[k] = c[k].trim();
    return out;
  });
  const body: Record<string, unknown> = { address: d.address.trim(), grid: d.grid, residents, contacts };
  if (create) body.id = d.id.trim();
  if (d.timezone.trim() !== '') body.timezone = d.timezone.trim();
  else if (!create) body.timezone = null;
  return body;
}

/**
 * A home's record: address, grid, time zone, residents, contacts. The hub checks it and says what
 * is wrong field by field, in the console's language (the same words as its API). Removing a
 * resident erases the home's history: the hub asks for a confirmation when alerts are open.
 */
export function HomeForm({
  home,
  grids,
  onSave,
  onCancel,
}: {
  home?: AdminHome | undefined;
  grids: GridRow[];
  onSave: (body: Record<string, unknown>, force: boolean) => Promise<void>;
  onCancel?: () => void;
}) {
  const { t } = useI18n();
  const create = home === undefined;
  const [d, setD] = useState<Draft>(() => draftOf(home, grids));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [needsForce, setNeedsForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [ids] = useState(() => ({
    id: fieldId('home-id'),
    address: fieldId('home-address'),
    grid: fieldId('home-grid'),
    timezone: fieldId('home-timezone'),
  }));
  const removedResidents = (home?.residents ?? []).filter((r) => !d.residents.some((x) => x.id === r.id));

  const set = (patch: Partial<Draft>) => setD({ ...d, ...patch });
  const setResident = (i: number, k: keyof Resident, v: string | boolean) =>
    set({ residents: d.residents.map((r, j) => (j === i ? { ...r, [k]: v } : r)) });
  const setContact = (i: number, k: string, v: string | string[]) =>
    set({ contacts: d.contacts.map((c, j) => (j === i ? { ...c, [k]: v } : c)) });

  const submit = async (force: boolean) => {
    setBusy(true);
    setGeneral(null);
    try {
      await onSave(bodyOf(d, create), force);
      setErrors({});
      setNeedsForce(false);
    } catch (err) {
      const byField = problemsByField(err);
      setErrors(byField);
      if (err instanceof AdminError && err.code === 'HUB_ERR_PURGE_REFUSED') setNeedsForce(true);
      setGeneral(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="admin-form home-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit(false);
      }}
    >
      {create && (
        <Field id={ids.id} label={t('admin.home.id')} error={errors.id} hint={t('admin.idHint')}>
          <input
            {...inputProps(ids.id, errors.id)}
            value={d.id}
            onInput={(e) => set({ id: e.currentTarget.value })}
          />
        </Field>
      )}
      <Field id={ids.address} label={t('admin.home.address')} error={errors.address}>
        <input
          {...inputProps(ids.address, errors.address)}
          value={d.address}
          onInput={(e) => set({ address: e.currentTarget.value })}
        />
      </Field>
      <Field id={ids.grid} label={t('admin.home.grid')} error={errors.grid}>
        <select
          {...inputProps(ids.grid, errors.grid)}
          value={d.grid}
          onChange={(e) => set({ grid: e.currentTarget.value })}
        >
          {grids.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name} ({g.id})
            </option>
          ))}
        </select>
      </Field>
      <Field
        id={ids.timezone}
        label={t('admin.home.timezone')}
        error={errors.timezone}
        hint={t('admin.home.timezoneHint')}
      >
        <input
          {...inputProps(ids.timezone, errors.timezone)}
          value={d.timezone}
          placeholder="Asia/Shanghai"
          onInput={(e) => set({ timezone: e.currentTarget.value })}
        />
      </Field>

      <fieldset class="group">
        <legend>{t('admin.home.residents')}</legend>
        {d.residents.map((r, i) => (
          <ResidentFields
            key={i}
            index={i}
            r={r}
            errors={errors}
            onChange={(k, v) => setResident(i, k, v)}
            onRemove={() => set({ residents: d.residents.filter((_, j) => j !== i) })}
          />
        ))}
        <button
          type="button"
          class="btn btn-secondary"
          onClick={() =>
            set({
              residents: [
                ...d.residents,
                { id: '', name: '', birthYear: '', language: '', phone: '', notes: '', wanderingRisk: false },
              ],
            })
          }
        >
          {t('admin.home.addResident')}
        </button>
        {removedResidents.length > 0 && (
          <p class="notice" role="status">
            {t('admin.home.residentRemovedWarning', {
              names: removedResidents.map((r) => r.name).join(', '),
            })}
          </p>
        )}
      </fieldset>

      <fieldset class="group">
        <legend>{t('admin.home.contacts')}</legend>
        {d.contacts.map((c, i) => {
          const f = (k: string) => `contacts.${i}.${k}`;
          const id = (k: string) => `contact-${i}-${k}`;
          return (
            <div class="person" key={i} data-contact={i}>
              <Field id={id('name')} label={t('admin.contact.name')} error={errors[f('name')]}>
                <input
                  {...inputProps(id('name'), errors[f('name')])}
                  value={c.name}
                  onInput={(e) => setContact(i, 'name', e.currentTarget.value)}
                />
              </Field>
              <Field id={id('relation')} label={t('admin.contact.relation')} error={errors[f('relation')]}>
                <select
                  {...inputProps(id('relation'), errors[f('relation')])}
                  value={c.relation}
                  onChange={(e) => setContact(i, 'relation', e.currentTarget.value)}
                >
                  {RELATIONS.map((rel) => (
                    <option key={rel} value={rel}>
                      {t(`admin.relation.${rel}`)}
                    </option>
                  ))}
                </select>
              </Field>
              {(['phone', 'email', 'language'] as const).map((k) => (
                <Field key={k} id={id(k)} label={t(`admin.contact.${k}`)} error={errors[f(k)]}>
                  {k === 'email' ? (
                    <input
                      {...inputProps(id(k), errors[f(k)])}
                      type="email"
                      value={c[k]}
                      onInput={(e) => setContact(i, k, e.currentTarget.value)}
                    />
                  ) : k === 'phone' ? (
                    <input
                      {...inputProps(id(k), errors[f(k)])}
                      type="tel"
                      value={c[k]}
                      onInput={(e) => setContact(i, k, e.currentTarget.value)}
                    />
                  ) : (
                    <input
                      {...inputProps(id(k), errors[f(k)])}
                      type="text"
                      value={c[k]}
                      onInput={(e) => setContact(i, k, e.currentTarget.value)}
                    />
                  )}
                </Field>
              ))}
              <fieldset class="channels">
                <legend>{t('admin.contact.notify')}</legend>
                {CHANNELS.map((ch) => (
                  <label key={ch} class="check">
                    <input
                      type="checkbox"
                      checked={c.notify.includes(ch)}
                      onChange={(e) =>
                        setContact(
                          i,
                          'notify',
                          e.currentTarget.checked ? [...c.notify, ch] : c.notify.filter((x) => x !== ch),
                        )
                      }
                    />
                    {t(`admin.channel.${ch}`)}
                  </label>
                ))}
              </fieldset>
              <button
                type="button"
                class="btn btn-quiet"
                onClick={() => set({ contacts: d.contacts.filter((_, j) => j !== i) })}
              >
                {t('admin.contact.remove')}
              </button>
            </div>
          );
        })}
        <button
          type="button"
          class="btn btn-secondary"
          onClick={() =>
            set({
              contacts: [
                ...d.contacts,
                { name: '', relation: 'family', phone: '', email: '', language: '', notify: [] },
              ],
            })
          }
        >
          {t('admin.home.addContact')}
        </button>
      </fieldset>

      {general && (
        <p class="error-box" role="alert">
          {general}
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {create ? t('admin.home.create') : t('admin.save')}
        </button>
        {needsForce && (
          <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void submit(true)}>
            {t('admin.home.eraseAnyway')}
          </button>
        )}
        {onCancel && (
          <button type="button" class="btn btn-quiet" onClick={onCancel}>
            {t('admin.cancel')}
          </button>
        )}
      </div>
    </form>
  );
}

function ResidentFields({
  index,
  r,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  r: Record<keyof Resident, string | boolean>;
  errors: Record<string, string>;
  onChange: (k: keyof Resident, v: string | boolean) => void;
  onRemove: () => void;
}) {
  const { t } = useI18n();
  const f = (k: string) => `residents.${index}.${k}`;
  const id = (k: string) => `resident-${index}-${k}`;
  const text = (k: 'id' | 'name' | 'birthYear' | 'language' | 'phone' | 'notes') => (
    <Field id={id(k)} label={t(`admin.resident.${k}`)} error={errors[f(k)]}>
      <input
        {...inputProps(id(k), errors[f(k)])}
        type="text"
        inputMode={k === 'birthYear' ? 'numeric' : k === 'phone' ? 'tel' : 'text'}
        value={String(r[k])}
        onInput={(e) => onChange(k, e.currentTarget.value)}
      />
    </Field>
  );
  return (
    <div class="person" data-resident={index}>
      {text('id')}
      {text('name')}
      {text('birthYear')}
      {text('language')}
      {text('phone')}
      {text('notes')}
      <label class="check">
        <input
          type="checkbox"
          checked={r.wanderingRisk === true}
          onChange={(e) => onChange('wanderingRisk', e.currentTarget.checked)}
        />
        {t('admin.resident.wanderingRisk')}
      </label>
      <button type="button" class="btn btn-quiet" onClick={onRemove}>
        {t('admin.resident.remove')}
      </button>
    </div>
  );
}
