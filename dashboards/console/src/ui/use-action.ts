import { useCallback, useState } from 'preact/hooks';
import { describeError } from '../format/errors';
import { useI18n } from '../i18n/i18n';

export interface ActionState {
  busy: boolean;
  /** The last failure in plain words, or null. */
  error: string | null;
  clear: () => void;
}

/** Run one hub call at a time for a button; keeps the failure, in plain words, for the view. */
export function useAction<A extends unknown[]>(
  fn: (...args: A) => Promise<unknown>,
): [(...args: A) => Promise<boolean>, ActionState] {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (...args: A) => {
      setBusy(true);
      setError(null);
      try {
        await fn(...args);
        return true;
      } catch (err) {
        setError(describeError(err, t));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [fn, t],
  );
  return [run, { busy, error, clear: () => setError(null) }];
}
