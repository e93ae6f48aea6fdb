import type { EventType } from '../../hub/src/protocol/events.js';

export interface DemoStep {
  /** Seconds into the loop (at speed 1). */
  at: number;
  device: string;
  event: EventType;
  /** What happens, in plain words, for the console. */
  say: string;
}

/**
 * One loop of life in the demo community (config/demo.yaml). Every home shows activity each loop, so
 * no inactivity alert; doors always close again, so no door-left-open alert; h1's door (a resident
 * at wandering risk, where a night-time opening alerts at once) stays shut.
 */
export const DEMO_STEPS: readonly DemoStep[] = [
  { at: 3, device: 'h1-motion', event: 'motion.detected', say: 'h1: movement in the living room' },
  { at: 6, device: 'h2-door', event: 'door.opened', say: 'h2: the resident opens the front door to go out' },
  { at: 8, device: 'h2-door', event: 'door.closed', say: 'h2: front door closed behind him' },
  {
    at: 10,
    device: 'h1-sos',
    event: 'sos.pressed',
    say: 'h1: the resident presses her SOS pendant -> SOS alert for duty1 (grid g1) and supervisor1',
  },
  { at: 20, device: 'h3-motion', event: 'motion.detected', say: 'h3: movement in the hall' },
  {
    at: 30,
    device: 'h2-smoke',
    event: 'smoke.test',
    say: "h2: someone presses the smoke detector's test button -> recorded as a test, no alert",
  },
  {
    at: 45,
    device: 'h3-smoke',
    event: 'smoke.detected',
    say: 'h3: smoke in the kitchen -> critical smoke alert (grid g2: supervisor1 sees it, duty1 does not)',
  },
  { at: 60, device: 'h3-motion', event: 'motion.detected', say: 'h3: movement in the hall' },
  {
    at: 75,
    device: 'h3-smoke',
    event: 'smoke.cleared',
    say: 'h3: the smoke has cleared (the smoke alert stays open until staff resolve it)',
  },
  { at: 90, device: 'h2-door', event: 'door.opened', say: 'h2: the resident comes home, front door opens' },
  { at: 93, device: 'h2-door', event: 'door.closed', say: 'h2: front door closed' },
  { at: 120, device: 'h1-motion', event: 'motion.detected', say: 'h1: movement in the living room' },
  { at: 150, device: 'h3-door', event: 'door.opened', say: 'h3: the neighbour from 8-302 comes in' },
  { at: 152, device: 'h3-door', event: 'door.closed', say: 'h3: front door closed' },
  { at: 155, device: 'h3-motion', event: 'motion.detected', say: 'h3: movement in the hall' },
  { at: 240, device: 'h1-motion', event: 'motion.detected', say: 'h1: movement in the living room' },
];

/** The script starts over after this many seconds; repeated presses add to a still-open alert. */
export const DEMO_LOOP_SECONDS = 300;

/** Plays steps in a loop on timers, `speed` times faster than written. */
export class ScriptPlayer {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly steps: readonly DemoStep[],
    private readonly loopSeconds: number,
    private readonly speed: number,
    private readonly act: (step: DemoStep, loop: number) => void,
  ) {}

  start(): void {
    this.#stopped = false;
    this.#loop(1, Date.now());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #loop(loop: number, startedAt: number): void {
    const steps = [...this.steps].sort((a, b) => a.at - b.at);
    const next = (i: number) => {
      if (this.#stopped) return;
      const step = steps[i];
      if (!step) {
        this.#schedule(startedAt + this.#ms(this.loopSeconds), () =>
          this.#loop(loop + 1, startedAt + this.#ms(this.loopSeconds)),
        );
        return;
      }
      this.#schedule(startedAt + this.#ms(step.at), () => {
        this.act(step, loop);
        next(i + 1);
      });
    };
    next(0);
  }

  #ms(seconds: number): number {
    return (seconds * 1000) / this.speed;
  }

  // Timed against the loop start, so slow steps do not make the script drift.
  #schedule(at: number, fn: () => void): void {
    this.#timer = setTimeout(fn, Math.max(0, at - Date.now()));
  }
}
