import { randomBytes } from 'node:crypto';

/**
 * Event ids a device never repeats. The hub drops a second event with the same id from the same
 * device forever, so ids must stay unique across simulator runs, not just within one: each source
 * starts from the clock and a random part, then counts.
 */
export function eventIdSource(): () => string {
  const boot = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let n = 0;
  return () => {
    n += 1;
    return `${boot}-${n.toString(36)}`;
  };
}
