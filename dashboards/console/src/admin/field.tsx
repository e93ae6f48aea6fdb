import type { ComponentChildren } from 'preact';

let next = 0;
/** An id for a label and its input, unique on the page. */
export const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}-${++next}`;

/**
 * A labelled form control with the hub's message for it (from the API's problems, by field), read
 * out with the control (aria-describedby) and marked invalid.
 */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class={`field${error ? ' field-bad' : ''}`}>
      <label for={id}>{label}</label>
      {children}
      {hint && !error && (
        <span class="muted small" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Props for the input inside a Field: its id, and the error wiring. */
export function inputProps(id: string, error: string | undefined) {
  return {
    id,
    name: id,
    'aria-invalid': error ? ('true' as const) : ('false' as const),
    ...(error ? { 'aria-describedby': `${id}-error` } : {}),
  };
}

/** A button that asks once more before it acts (an inline confirmation, keyboard reachable). */
export function ConfirmButton({
  label,
  confirm,
  cancel,
  question,
  onConfirm,
  danger = true,
  disabled = false,
}: {
  label: string;
  confirm: string;
  cancel: string;
  question: string;
  onConfirm: () => void;
  danger?: boolean;
  disabled?: boolean;
}) {
  return (
    <details class="confirm">
      <summary class={`btn ${danger ? 'btn-danger' : 'btn-secondary'}`} aria-disabled={disabled}>
        {label}
      </summary>
      <fieldset class="confirm-body">
        <p>{question}</p>
        <button
          type="button"
          class={`btn ${danger ? 'btn-danger' : 'btn-primary'}`}
          disabled={disabled}
          onClick={onConfirm}
        >
          {confirm}
        </button>
        <button
          type="button"
          class="btn btn-quiet"
          onClick={(e) => {
            const d = (e.currentTarget as HTMLElement).closest('details');
            if (d) d.open = false;
          }}
        >
          {cancel}
        </button>
      </fieldset>
    </details>
  );
}
