export interface TimerRow {
  /** Unique per purpose: `door_left_open:h1-door`, `esc:al-…:1`. Setting a key again replaces it. */
  key: string;
  homeId: string;
  dueAt: number;
  /** What to do when it fires, interpreted by its owner. */
  data: { owner: 'rule' | 'alert' | 'mode' | 'notify'; rule?: string; [k: string]: unknown };
}
