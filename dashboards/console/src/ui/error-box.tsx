/** An error in plain words, announced to screen readers. */
export function ErrorBox({ message, onDismiss }: { message: string | null; onDismiss?: () => void }) {
  if (!message) return null;
  return (
    <div class="error-box" role="alert">
      <span>{message}</span>
      {onDismiss && (
        <button type="button" class="btn btn-quiet" onClick={onDismiss}>
          ×
        </button>
      )}
    </div>
  );
}
