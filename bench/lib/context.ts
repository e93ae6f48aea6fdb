import type { Figure } from './results.js';

export interface Ctx {
  quick: boolean;
  /** Temp root for this run (data dirs, configs, logs, profiles). */
  tmp: string;
  /** Write hub CPU profiles (node --cpu-prof) into tmp/profiles. */
  profile: boolean;
  /** Skip the Mosquitto runs (A/B comparisons of hub builds, profiling). */
  hubOnly: boolean;
  log: (msg: string) => void;
  figures: Figure[];
  details: Record<string, unknown>;
  notes: string[];
}

export const MOSQ = 'Mosquitto';

export function ratio(hub: number | null | undefined, ref: number | null | undefined): number | null {
  if (
    hub === null ||
    hub === undefined ||
    ref === null ||
    ref === undefined ||
    !Number.isFinite(hub) ||
    !Number.isFinite(ref) ||
    ref === 0
  )
    return null;
  return hub / ref;
}
