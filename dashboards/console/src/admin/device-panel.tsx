import { useState } from 'preact/hooks';
import { formatAge } from '../format/time';
import { useI18n } from '../i18n/i18n';
import { type AdminDevice, AdminError, adminApi, problemsByField } from './admin-api';
import { ConfirmButton, Field, fieldId, inputProps } from './field';
import { deviceSecrets } from './secrets';

export const DEVICE_KINDS = [
  'sos_button',
  'door_sensor',
  'smoke_detector',
  'motion_sensor',
  'gateway',
] as const;

/** A device's health in words (never colour alone). */
export function DeviceHealth({ d, now }: { d: AdminDevice; now: number }) {
  const { t } = useI18n();
  const low = d.batteryLow === true || (d.battery !== null && d.battery <= 20);
  return (
    <>
      <span class={`health ${d.online === true ? 'ok' : d.online === false ? 'bad' : 'unknown'}`}>
        {d.online === true
          ? t('devices.online')
          : d.online === false
            ? t('devices.offline')
            : t('devices.unknown')}
      </span>
      {d.battery !== null && <span class={low ? 'health bad' : 'muted'}> · {d.battery}%</span>}
      <span class="muted small">
        {' · '}
        {d.lastSeen
          ? t('devices.ago', { age: formatAge(now - Date.parse(d.lastSeen), t) })
          : t('devices.never')}
      </span>
    </>
  );
}

/** A home's devices: health, secret, pairing; add one, make a new secret, retire one. */
export function DevicePanel({
  homeId,
  devices,
  now,
  onChanged,
}: {
  homeId: string;
  devices: AdminDevice[];
  now: number;
  onChanged: () => void;
}) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [made, setMade] = useState<{ id: string; secret: string } | null>(null);
  const act = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <section class="panel admin-devices" aria-labelledby="devices-title">
      <h2 id="devices-title">{t('admin.devices.title')}</h2>
      {devices.length === 0 ? (
        <p class="muted">{t('devices.none')}</p>
      ) : (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('admin.device.id')}</th>
              <th scope="col">{t('admin.device.kind')}</th>
              <th scope="col">{t('devices.state')}</th>
              <th scope="col">{t('admin.device.secret')}</th>
              <th scope="col">
                <span class="sr-only">{t('admin.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id} data-device-id={d.id}>
                <th scope="row">
                  {d.id}
                  {d.label && <span class="muted small"> · {d.label}</span>}
                </th>
                <td>
                  {t(`deviceKind.${d.kind}`)}
                  {d.zigbee && (
                    <span class="muted small">
                      {' '}
                      ·{' '}
                      {t('admin.device.pairedWith', {
                        gateway: d.zigbee.gateway,
                        name: d.zigbee.friendlyName,
                      })}
                    </span>
                  )}
                </td>
                <td>
                  <DeviceHealth d={d} now={now} />
                </td>
                <td>{t(`admin.secret.${d.secret}`)}</td>
                <td class="row-actions">
                  {!d.zigbee && (
                    <ConfirmButton
                      label={t('admin.device.rotate')}
                      question={t('admin.device.rotateQuestion', { id: d.id })}
                      confirm={t('admin.device.rotateConfirm')}
                      cancel={t('admin.cancel')}
                      danger={false}
                      onConfirm={() =>
                        void act(async () => {
                          const r = await adminApi.rotate(d.id);
                          deviceSecrets.put(d.id, r.secret);
                          setMade({ id: d.id, secret: r.secret });
                        })
                      }
                    />
                  )}
                  <ConfirmButton
                    label={t('admin.device.retire')}
                    question={t('admin.device.retireQuestion', { id: d.id })}
                    confirm={t('admin.device.retireConfirm')}
                    cancel={t('admin.cancel')}
                    onConfirm={() => void act(async () => void (await adminApi.retire(d.id)))}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {made && (
        <p class="notice secret-once" role="status">
          {t('admin.device.secretOnce', { id: made.id })} <code>{made.secret}</code>
        </p>
      )}
      {error && (
        <p class="error-box" role="alert">
          {error}
        </p>
      )}
      <AddDevice
        homeId={homeId}
        gateways={devices.filter((d) => d.kind === 'gateway')}
        onAdded={(id, secret) => {
          if (secret) {
            deviceSecrets.put(id, secret);
            setMade({ id, secret });
          }
          onChanged();
        }}
      />
    </section>
  );
}

function AddDevice({
  homeId,
  gateways,
  onAdded,
}: {
  homeId: string;
  gateways: AdminDevice[];
  onAdded: (id: string, secret: string | null) => void;
}) {
  const { t } = useI18n();
  const [id, setId] = useState(`${homeId}-`);
  const [kind, setKind] = useState<string>('sos_button');
  const [label, setLabel] = useState('');
  const [gateway, setGateway] = useState('');
  const [friendly, setFriendly] = useState('');
  const [baseTopic, setBaseTopic] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [ids] = useState(() => ({
    id: fieldId('device-id'),
    kind: fieldId('device-kind'),
    label: fieldId('device-label'),
    gateway: fieldId('device-gateway'),
    friendly: fieldId('device-friendly'),
    base: fieldId('device-base'),
  }));
  const submit = async () => {
    setGeneral(null);
    const body: Record<string, unknown> = { id: id.trim(), kind };
    if (label.trim()) body.label = label.trim();
    if (kind === 'gateway' && baseTopic.trim()) body.baseTopic = baseTopic.trim();
    if (kind !== 'gateway' && gateway) body.zigbee = { gateway, friendlyName: friendly.trim() };
    try {
      const r = await adminApi.addDevice(homeId, body);
      setErrors({});
      setId(`${homeId}-`);
      setLabel('');
      setFriendly('');
      onAdded(r.device.id, r.secret);
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
      class="admin-form add-device"
      noValidate
      aria-label={t('admin.device.add')}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3>{t('admin.device.add')}</h3>
      <Field id={ids.id} label={t('admin.device.id')} error={errors.id}>
        <input {...inputProps(ids.id, errors.id)} value={id} onInput={(e) => setId(e.currentTarget.value)} />
      </Field>
      <Field id={ids.kind} label={t('admin.device.kind')} error={errors.kind}>
        <select
          {...inputProps(ids.kind, errors.kind)}
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value)}
        >
          {DEVICE_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`deviceKind.${k}`)}
            </option>
          ))}
        </select>
      </Field>
      <Field id={ids.label} label={t('admin.device.label')} error={errors.label}>
        <input
          {...inputProps(ids.label, errors.label)}
          value={label}
          onInput={(e) => setLabel(e.currentTarget.value)}
        />
      </Field>
      {kind === 'gateway' ? (
        <Field
          id={ids.base}
          label={t('admin.device.baseTopic')}
          error={errors.baseTopic}
          hint={t('admin.device.baseTopicHint')}
        >
          <input
            {...inputProps(ids.base, errors.baseTopic)}
            value={baseTopic}
            onInput={(e) => setBaseTopic(e.currentTarget.value)}
          />
        </Field>
      ) : (
        <>
          <Field id={ids.gateway} label={t('admin.device.gateway')} error={errors['zigbee.gateway']}>
            <select
              {...inputProps(ids.gateway, errors['zigbee.gateway'])}
              value={gateway}
              onChange={(e) => setGateway(e.currentTarget.value)}
            >
              <option value="">{t('admin.device.ownConnection')}</option>
              {gateways.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.label ?? g.id}
                </option>
              ))}
            </select>
          </Field>
          {gateway && (
            <Field
              id={ids.friendly}
              label={t('admin.device.friendlyName')}
              error={errors['zigbee.friendlyName']}
            >
              <input
                {...inputProps(ids.friendly, errors['zigbee.friendlyName'])}
                value={friendly}
                onInput={(e) => setFriendly(e.currentTarget.value)}
              />
            </Field>
          )}
        </>
      )}
      {general && (
        <p class="error-box" role="alert">
          {general}
        </p>
      )}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary">
          {t('admin.device.addButton')}
        </button>
      </div>
    </form>
  );
}
