export type AlarmPattern = 'smoke' | 'sos';

interface Tone {
  at: number;
  freq: number;
  dur: number;
  wave: OscillatorType;
}

/** Fire: the temporal-three pattern of smoke alarms (three 0.5 s square beeps, 1.5 s pause). */
const SMOKE: { cycle: number; tones: Tone[] } = {
  cycle: 4,
  tones: [0, 1, 2].map((i) => ({ at: i, freq: 950, dur: 0.5, wave: 'square' as const })),
};

/** SOS and other critical alerts: a rising two-tone call, twice, then a pause. */
const SOS: { cycle: number; tones: Tone[] } = {
  cycle: 2.5,
  tones: [0, 0.6].flatMap((t) => [
    { at: t, freq: 660, dur: 0.22, wave: 'triangle' as const },
    { at: t + 0.25, freq: 880, dur: 0.3, wave: 'triangle' as const },
  ]),
};

/**
 * The audible alarm, through Web Audio (no sound files). `play(pattern)` loops the pattern until
 * `play(null)`. Browsers only let a page make sound after a user gesture: `unlock()` is called
 * on every click and key press, and `blocked` tells the page to ask for one.
 */
export class Alarm {
  #ctx: AudioContext | undefined;
  #pattern: AlarmPattern | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #nodes: OscillatorNode[] = [];
  #onChange: () => void;

  constructor(onChange: () => void = () => {}) {
    this.#onChange = onChange;
  }

  get pattern(): AlarmPattern | null {
    return this.#pattern;
  }

  /** True when sound is wanted or may be wanted but the browser has not allowed it yet. */
  get blocked(): boolean {
    return this.#ctx?.state !== 'running';
  }

  /** Create or resume the audio context. Call from a user gesture. */
  async unlock(): Promise<void> {
    try {
      if (!this.#ctx) {
        const Ctor = window.AudioContext;
        if (!Ctor) return;
        this.#ctx = new Ctor();
        this.#ctx.onstatechange = () => this.#onChange();
      }
      if (this.#ctx.state === 'suspended') await this.#ctx.resume();
    } catch {
      // no audio device: the visual alarm still stands
    }
    this.#onChange();
    if (this.#pattern) this.#restart();
  }

  play(pattern: AlarmPattern | null): void {
    if (pattern === this.#pattern) return;
    this.#pattern = pattern;
    this.#restart();
  }

  stop(): void {
    this.play(null);
    void this.#ctx?.close();
    this.#ctx = undefined;
  }

  #restart(): void {
    clearTimeout(this.#timer);
    for (const n of this.#nodes) {
      try {
        n.stop();
      } catch {
        // already stopped
      }
    }
    this.#nodes = [];
    if (this.#pattern) this.#cycle();
  }

  #cycle(): void {
    const def = this.#pattern === 'smoke' ? SMOKE : SOS;
    const ctx = this.#ctx;
    if (ctx && ctx.state === 'running') {
      const t0 = ctx.currentTime + 0.05;
      this.#nodes = def.tones.map((tone) => this.#tone(ctx, t0 + tone.at, tone));
    }
    this.#timer = setTimeout(() => this.#cycle(), def.cycle * 1000);
  }

  #tone(ctx: AudioContext, start: number, tone: Tone): OscillatorNode {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = tone.wave;
    osc.frequency.value = tone.freq;
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(0.25, start + 0.01);
    gain.gain.setValueAtTime(0.25, start + tone.dur - 0.02);
    gain.gain.linearRampToValueAtTime(0, start + tone.dur);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + tone.dur + 0.01);
    return osc;
  }
}
