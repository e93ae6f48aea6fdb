import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n/i18n';
import { adminApi, type Sheet } from './admin-api';
import { adminHref } from './admin-routes';
import { ConfirmButton } from './field';
import { QrCode } from './qr-code';
import { deviceSecrets } from './secrets';

/** What a device is given: `mqtt://<id>:<secret>@<host>:<port>` (the QR code), and the same in words. */
export function connectUrl(host: string, port: number | null, id: string, secret: string): string {
  return `mqtt://${encodeURIComponent(id)}:${encodeURIComponent(secret)}@${host}${port ? `:${port}` : ''}`;
}

/**
 * The installer's sheet for one home, to print: each device's id, where and how it connects, and
 * its secret as text and as a QR code. Secrets are those this page was shown (devices just added)
 * or made now for devices that have none; the hub shows a secret once, so the sheet is printed now.
 */
export function InstallerSheet({ homeId }: { homeId: string }) {
  const { t } = useI18n();
  const [sheet, setSheet] = useState<Sheet | null>(null);
  const [error, setError] = useState<string | null>(null);

  const make = (all: boolean) => {
    setError(null);
    adminApi.provision(homeId, all).then(
      (s) => {
        for (const d of s.devices) if (d.newSecret) deviceSecrets.put(d.id, d.newSecret);
        setSheet(s);
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  };
  useEffect(() => make(false), [homeId]);

  if (error)
    return (
      <p class="error-box" role="alert">
        {error}
      </p>
    );
  if (!sheet) return <p class="loading">{t('app.loading')}</p>;
  const host = sheet.mqtt.host;
  const port = sheet.mqtt.tlsPort ?? sheet.mqtt.port;
  const missing = sheet.devices.filter((d) => !d.zigbee && !deviceSecrets.get(d.id));

  return (
    <article class="sheet" aria-labelledby="sheet-title" data-home-id={homeId}>
      <div class="sheet-tools no-print">
        <a class="btn btn-quiet" href={adminHref(['homes', homeId])}>
          {t('admin.back')}
        </a>
        <button type="button" class="btn btn-primary" onClick={() => window.print()}>
          {t('admin.sheet.print')}
        </button>
        <ConfirmButton
          label={t('admin.sheet.renewAll')}
          question={t('admin.sheet.renewAllQuestion')}
          confirm={t('admin.sheet.renewAllConfirm')}
          cancel={t('admin.cancel')}
          onConfirm={() => make(true)}
        />
      </div>
      <header class="sheet-head">
        <h2 id="sheet-title">{t('admin.sheet.title')}</h2>
        <p>
          <strong>{sheet.home.address}</strong> · {t('admin.home.id')} {sheet.home.id} ·{' '}
          {t('admin.home.grid')} {sheet.home.grid}
        </p>
        <dl class="sheet-mqtt">
          <dt>{t('admin.sheet.host')}</dt>
          <dd>{host}</dd>
          <dt>{t('admin.sheet.port')}</dt>
          <dd>
            {sheet.mqtt.port ?? '—'}
            {sheet.mqtt.tlsPort ? ` (TLS ${sheet.mqtt.tlsPort})` : ''}
          </dd>
          <dt>{t('admin.sheet.protocol')}</dt>
          <dd>MQTT 3.1.1, QoS 1</dd>
        </dl>
        <p class="sheet-warning">{t('admin.sheet.keepSafe')}</p>
      </header>
      {missing.length > 0 && (
        <p class="notice no-print" role="status">
          {t('admin.sheet.missing', { ids: missing.map((d) => d.id).join(', ') })}
        </p>
      )}
      <ol class="sheet-devices">
        {sheet.devices.map((d) => {
          const secret = deviceSecrets.get(d.id);
          return (
            <li key={d.id} class="sheet-device" data-device-id={d.id}>
              <div class="sheet-text">
                <h3>
                  {d.label ?? t(`deviceKind.${d.kind}`)}{' '}
                  <span class="muted small">· {t(`deviceKind.${d.kind}`)}</span>
                </h3>
                <dl>
                  <dt>{t('admin.sheet.deviceId')}</dt>
                  <dd>
                    <code>{d.id}</code>
                  </dd>
                  {d.zigbee ? (
                    <>
                      <dt>{t('admin.sheet.pairing')}</dt>
                      <dd>
                        {t('admin.device.pairedWith', {
                          gateway: d.zigbee.gateway,
                          name: d.zigbee.friendlyName,
                        })}
                      </dd>
                    </>
                  ) : (
                    <>
                      <dt>{t('admin.sheet.clientId')}</dt>
                      <dd>
                        <code>{d.id}</code>
                      </dd>
                      <dt>{t('admin.sheet.secret')}</dt>
                      <dd>{secret ? <code class="secret">{secret}</code> : t('admin.sheet.noSecret')}</dd>
                      <dt>{t('admin.sheet.topic')}</dt>
                      <dd>
                        <code>carehub/v1/devices/{d.id}/events</code>
                      </dd>
                      {d.kind === 'gateway' && (
                        <>
                          <dt>{t('admin.device.baseTopic')}</dt>
                          <dd>
                            <code>{d.baseTopic ?? 'zigbee2mqtt'}</code>
                          </dd>
                        </>
                      )}
                    </>
                  )}
                </dl>
              </div>
              {!d.zigbee && secret && (
                <QrCode
                  text={connectUrl(host, port, d.id, secret)}
                  label={t('admin.sheet.qrLabel', { id: d.id })}
                />
              )}
            </li>
          );
        })}
      </ol>
      <div class="no-print">
        <button
          type="button"
          class="btn btn-secondary"
          onClick={() => {
            deviceSecrets.forget(sheet.devices.map((d) => d.id));
            location.hash = adminHref(['homes', homeId]);
          }}
        >
          {t('admin.sheet.done')}
        </button>
      </div>
    </article>
  );
}
