import { useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Contact, NotifyChannel } from '../api/types';
import { describeError } from '../format/errors';
import { useI18n } from '../i18n/i18n';
import { ErrorBox } from './error-box';

type Results = Record<string, { ok: boolean; text: string } | 'busy'>;

/**
 * Test messages to a home's contacts, one button per contact and channel (supervisors and admins):
 * an installer checks a number, an address or a robot before it matters. The contacts are loaded
 * on demand (an audited read of the home's details).
 */
export function TestSendPanel({ homeId }: { homeId: string }) {
  const { t } = useI18n();
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [results, setResults] = useState<Results>({});

  const open = () =>
    api.home(homeId).then(
      (h) => setContacts(h.contacts ?? []),
      (err: unknown) => setError(err),
    );
  const send = async (index: number, channel: NotifyChannel) => {
    const key = `${index}-${channel}`;
    setResults((r) => ({ ...r, [key]: 'busy' }));
    try {
      const res = await api.testSend(homeId, index, channel);
      setResults((r) => ({ ...r, [key]: { ok: res.ok, text: res.ok ? t('testSend.sent') : res.detail } }));
    } catch (err) {
      setResults((r) => ({ ...r, [key]: { ok: false, text: describeError(err, t) } }));
    }
  };

  if (!contacts)
    return (
      <div class="test-send">
        <button type="button" class="btn btn-secondary" onClick={open}>
          {t('testSend.open')}
        </button>
        {error ? <ErrorBox message={describeError(error, t)} /> : null}
      </div>
    );
  return (
    <div class="test-send">
      <h3>{t('testSend.title')}</h3>
      {contacts.length === 0 && <p class="muted">{t('contacts.none')}</p>}
      <ul>
        {contacts.map((c, index) => (
          <li key={`${index}-${c.name}`} data-contact={index}>
            <strong>{c.name}</strong> <span class="muted">{t(`relation.${c.relation}`)}</span>
            {(c.notify ?? []).length === 0 && <span class="muted"> · {t('testSend.noChannels')}</span>}
            {(c.notify ?? []).map((channel) => {
              const r = results[`${index}-${channel}`];
              return (
                <span key={channel} class="test-send-channel" data-channel={channel}>
                  <button
                    type="button"
                    class="btn btn-secondary"
                    disabled={r === 'busy'}
                    onClick={() => void send(index, channel)}
                  >
                    {t('testSend.button', { channel: t(`channel.${channel}`) })}
                  </button>
                  {r && r !== 'busy' && (
                    <span class={r.ok ? 'test-ok' : 'test-failed'} role="status">
                      {r.text}
                    </span>
                  )}
                </span>
              );
            })}
          </li>
        ))}
      </ul>
    </div>
  );
}
