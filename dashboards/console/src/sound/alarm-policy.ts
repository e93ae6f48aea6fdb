import type { Alert } from '../api/types';
import type { AlarmPattern } from './alarm';

/** Which sound the unacknowledged critical alerts call for: fire outranks everything. */
export function patternFor(sounding: readonly Alert[], muted: boolean): AlarmPattern | null {
  if (muted || sounding.length === 0) return null;
  return sounding.some((a) => a.kind === 'smoke') ? 'smoke' : 'sos';
}
