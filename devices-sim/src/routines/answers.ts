import type { Prng } from '../util/prng.js';
import type { Persona } from './persona.js';
import type { Presence } from './plan.js';

const MIN = 60_000;
/** Asleep, a resident hears the beep less often and takes longer to get to the button. */
const ASLEEP_FACTOR = 0.7;

export type AnswerWhy = 'answered' | 'out' | 'fallen' | 'not heard';

export interface AnswerPlan {
  why: AnswerWhy;
  /** When the resident presses "I am OK" (drill time), or null. */
  at: number | null;
  asleep: boolean;
}

const within = (spans: ReadonlyArray<readonly [number, number]>, t: number) =>
  spans.some(([a, b]) => t >= a && t <= b);

/**
 * How a resident answers a check-in request heard at `at`: never while out or fallen; otherwise
 * with their chance (less when asleep), after a delay around their habit (0.5-8 minutes, longer
 * from bed). `rng` is drawn for this request alone, so answers do not depend on the order requests
 * come in.
 */
export function residentAnswer(rng: Prng, p: Persona, presence: Presence, at: number): AnswerPlan {
  if (presence.fallenAt !== undefined && at >= presence.fallenAt)
    return { why: 'fallen', at: null, asleep: false };
  if (within(presence.out, at)) return { why: 'out', at: null, asleep: false };
  const asleep = within(presence.asleep, at);
  const chance = p.answerChance * (asleep ? ASLEEP_FACTOR : 1);
  if (!rng.chance(chance)) return { why: 'not heard', at: null, asleep };
  const delayMin = Math.min(8, Math.max(0.5, rng.exponential(p.answerDelayMin))) * (asleep ? 1.5 : 1);
  return { why: 'answered', at: at + Math.round(delayMin * MIN), asleep };
}
