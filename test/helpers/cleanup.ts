import { afterEach } from 'vitest';

/**
 * A stack of things to undo after each test of the calling `describe` (clients, hubs, files),
 * undone newest first; one failing undo does not stop the others.
 */
export function useCleanup(): Array<() => unknown> {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // keep undoing the rest
      }
    }
  });
  return cleanup;
}
