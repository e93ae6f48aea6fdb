/**
 * Run `work` (a transaction); if it throws, the transaction rolled back, so call `rolledBack` (to
 * drop what in-memory caches took from it) and rethrow. The caches of rules state and timers are
 * written through inside transactions: without this a failed write would leave them believing it.
 */
export function rollingBack<T>(rolledBack: () => void, work: () => T): T {
  try {
    return work();
  } catch (err) {
    rolledBack();
    throw err;
  }
}
