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

export interface PlayOptions {
  /**
   * Never move the clock by more than this at once, even with no cue in between, so that something
   * the hub starts on its own (a check-in request) can be answered in drill time; 0: no bound.
   */
  maxStepMs?: number;
}

/**
 * Plays cues in time order on the drill clock: advance to the next instant (the hub fires every
 * timer due up to then), run that instant's cues, repeat; finally advance to `end`. Cues can be
 * added while it plays (`add`): one due in the past runs at the next instant.
 * A cue that throws stops the play: the error says which.
 */
export class Player {
  readonly #queue: Array<{ c: Cue; i: number }> = [];
  #n = 0;

  constructor(
    private readonly clock: DrillClock,
    private readonly end: number,
    private readonly hooks: PlayHooks = {},
    private readonly options: PlayOptions = {},
  ) {}

  /** Add a cue (kept in time order, then in the order added). */
  add(cue: Cue): void {
    const item = { c: cue, i: this.#n++ };
    // Binary search for the first later item: cues are mostly added in order.
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#queue[mid] as { c: Cue; i: number };
      if (m.c.at <= cue.at) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, item);
  }

  async run(): Promise<void> {
    const step = this.options.maxStepMs ?? 0;
    for (;;) {
      const head = this.#queue[0];
      const now = this.clock.now();
      let at = head ? Math.max(head.c.at, now) : this.end;
      if (step > 0 && at > now + step) at = Math.min(now + step, this.end);
      if (!head && at >= this.end) break;
      await this.clock.advanceTo(at);
      await this.hooks.afterAdvance?.(at);
      const group: Cue[] = [];
      while (this.#queue.length > 0 && (this.#queue[0] as { c: Cue }).c.at <= at)
        group.push((this.#queue.shift() as { c: Cue }).c);
      if (group.length === 0) continue;
      await runGroup(group);
      await this.hooks.afterCues?.(at);
    }
    await this.clock.advanceTo(this.end);
    await this.hooks.afterAdvance?.(this.end);
  }
}

/** Play a fixed list of cues (see Player). */
export async function play(
  cues: readonly Cue[],
  clock: DrillClock,
  end: number,
  hooks: PlayHooks = {},
  options: PlayOptions = {},
): Promise<void> {
  const player = new Player(clock, end, hooks, options);
  for (const c of cues) player.add(c);
  await player.run();
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
