import type { DrillClock } from './drill-clock.js';

/** Something to do at a drill time. */
export interface Cue {
  at: number;
  /** Cues of one lane run in order; lanes of the same instant run side by side (e.g. one lane per home). */
  lane?: string;
  run: () => Promise<void>;
}

export interface PlayHooks {
  /** After the clock reached an instant and before its cues run (e.g. pick up alerts raised by timers). */
  afterAdvance?: (at: number) => Promise<void>;
  /** After the cues of an instant ran (e.g. pick up alerts raised by those events). */
  afterCues?: (at: number) => Promise<void>;
}

/**
 * Plays cues in time order on the drill clock: advance to the next instant (the hub fires every
 * timer due up to then), run that instant's cues, repeat; finally advance to `end`.
 * A cue that throws stops the play: the error says which.
 */
export async function play(
  cues: readonly Cue[],
  clock: DrillClock,
  end: number,
  hooks: PlayHooks = {},
): Promise<void> {
  const sorted = cues.map((c, i) => ({ c, i })).sort((a, b) => a.c.at - b.c.at || a.i - b.i);
  let i = 0;
  while (i < sorted.length) {
    const at = sorted[i]?.c.at ?? end;
    const group: Cue[] = [];
    while (i < sorted.length && sorted[i]?.c.at === at) {
      const next = sorted[i]?.c;
      if (next) group.push(next);
      i++;
    }
    await clock.advanceTo(at);
    await hooks.afterAdvance?.(at);
    await runGroup(group);
    await hooks.afterCues?.(at);
  }
  await clock.advanceTo(end);
  await hooks.afterAdvance?.(end);
}

async function runGroup(group: readonly Cue[]): Promise<void> {
  const lanes = new Map<string, Cue[]>();
  const solo: Cue[] = [];
  for (const cue of group) {
    if (cue.lane === undefined) {
      solo.push(cue);
      continue;
    }
    const lane = lanes.get(cue.lane) ?? [];
    lane.push(cue);
    lanes.set(cue.lane, lane);
  }
  // Cues without a lane keep their written order, one after the other.
  for (const cue of solo) await cue.run();
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const cue of lane) await cue.run();
    }),
  );
}
