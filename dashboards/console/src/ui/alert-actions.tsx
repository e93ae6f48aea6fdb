import { useId, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import { type Alert, OUTCOMES, type Outcome, type StaffSummary } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { ErrorBox } from './error-box';
import { useAction } from './use-action';

interface ActionsProps {
  alert: Alert;
  staff: StaffSummary[] | null;
  staffError: string | null;
  selfId: string;
  onChanged: (alert: Alert) => void;
}

/** The one Acknowledge button of the detail view, at its head, beside the alert it acknowledges. */
export function AckButton({ alert, onChanged }: Pick<ActionsProps, 'alert' | 'onChanged'>) {
  const { t } = useI18n();
  const [ack, state] = useAction(async () => onChanged(await api.ack(alert.id)));
  if (alert.status !== 'open' && !state.error) return null;
  return (
    <div class="ack-box">
      {alert.status === 'open' && (
        <button
          type="button"
          class="btn btn-primary btn-big"
          disabled={state.busy}
          onClick={() => void ack()}
        >
          {t('action.ack')}
        </button>
      )}
      {/* kept when the feed has already moved the alert on, so a refusal stays in view */}
      <ErrorBox message={state.error} onDismiss={state.clear} />
    </div>
  );
}

/** Assign, add a note, resolve with an outcome: the detail view's actions after the calls. */
export function AlertActions({ alert, staff, staffError, selfId, onChanged }: ActionsProps) {
  const { t } = useI18n();
  const resolved = alert.status === 'resolved';
  return (
    <section class="panel actions" aria-labelledby="actions-title">
      <h2 id="actions-title">{t('detail.actions')}</h2>
      {!resolved && (
        <AssignForm
          alert={alert}
          staff={staff}
          staffError={staffError}
          selfId={selfId}
          onChanged={onChanged}
        />
      )}
      <NoteForm alert={alert} onChanged={onChanged} />
      {!resolved && <ResolveForm alert={alert} onChanged={onChanged} />}
      {resolved && (
        <p class="notice" role="status">
          {t('detail.resolvedAs', { outcome: alert.outcome ? t(`outcome.${alert.outcome}`) : '—' })}{' '}
          <a href="#/queue">{t('detail.backToQueue')}</a>
        </p>
      )}
    </section>
  );
}

function AssignForm({ alert, staff, staffError, selfId, onChanged }: ActionsProps) {
  const { t } = useI18n();
  const id = useId();
  const [choice, setChoice] = useState(alert.assignedTo ?? selfId);
  const [assign, state] = useAction(async () => onChanged(await api.assign(alert.id, choice)));
  return (
    <form
      class="action-form"
      onSubmit={(e) => {
        e.preventDefault();
        void assign();
      }}
    >
      <label for={id}>{t('action.assignTo')}</label>
      <div class="inline">
        <select
          id={id}
          value={choice}
          onChange={(e) => setChoice((e.currentTarget as HTMLSelectElement).value)}
        >
          {(staff ?? [{ id: selfId, name: selfId, role: 'duty' }]).map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
              {s.id === selfId ? ` (${t('action.me')})` : ''}
            </option>
          ))}
        </select>
        <button type="submit" class="btn btn-secondary" disabled={state.busy}>
          {t('action.assign')}
        </button>
      </div>
      <ErrorBox message={state.error ?? staffError} onDismiss={state.clear} />
    </form>
  );
}

function NoteForm({ alert, onChanged }: Pick<ActionsProps, 'alert' | 'onChanged'>) {
  const { t } = useI18n();
  const id = useId();
  const [text, setText] = useState('');
  const [add, state] = useAction(async () => {
    onChanged(await api.note(alert.id, text.trim()));
    setText('');
  });
  return (
    <form
      class="action-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) void add();
      }}
    >
      <label for={id}>{t('action.note')}</label>
      <textarea
        id={id}
        rows={2}
        maxLength={2000}
        value={text}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <button type="submit" class="btn btn-secondary" disabled={state.busy || !text.trim()}>
        {t('action.addNote')}
      </button>
      <ErrorBox message={state.error} onDismiss={state.clear} />
    </form>
  );
}

function ResolveForm({ alert, onChanged }: Pick<ActionsProps, 'alert' | 'onChanged'>) {
  const { t } = useI18n();
  const noteId = useId();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [note, setNote] = useState('');
  const [missing, setMissing] = useState(false);
  const [resolve, state] = useAction(async (o: Outcome) =>
    onChanged(await api.resolve(alert.id, o, note.trim())),
  );
  return (
    <form
      class="action-form resolve-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!outcome) {
          setMissing(true);
          return;
        }
        void resolve(outcome);
      }}
    >
      <fieldset>
        <legend>{t('action.outcome')}</legend>
        <div class="outcomes">
          {OUTCOMES.map((o) => (
            <label key={o} class="radio">
              <input
                type="radio"
                name={`outcome-${alert.id}`}
                value={o}
                checked={outcome === o}
                onChange={() => {
                  setOutcome(o);
                  setMissing(false);
                }}
              />
              {t(`outcome.${o}`)}
            </label>
          ))}
        </div>
      </fieldset>
      <label for={noteId}>{t('action.resolveNote')}</label>
      <textarea
        id={noteId}
        rows={2}
        maxLength={2000}
        value={note}
        onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <button type="submit" class="btn btn-danger" disabled={state.busy}>
        {t('action.resolve')}
      </button>
      <ErrorBox message={missing ? t('action.pickOutcome') : state.error} onDismiss={state.clear} />
    </form>
  );
}
