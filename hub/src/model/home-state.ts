export type HomeMode = 'home' | 'away' | 'maintenance';

/** Everything the rules remember about one home, kept as one row so homes can be partitioned later. */
export interface HomeState {
  mode: HomeMode;
  modeUntil: number | null;
  /** When the hub started watching this home: the baseline before any activity is seen. */
  watchedSince: number;
  lastActivityAt: number | null;
  /** The event type of that activity: a quiet spell that began with the door, in a home with a motion sensor, is probably the resident out. */
  lastActivityType: string | null;
  lastMotionAt: number | null;
  doors: Record<string, { open: boolean; since: number }>;
  /** Devices with a battery_low alert raised and not yet recovered. */
  batteryLow: Record<string, true>;
  /** Devices whose last status was offline. */
  offline: Record<string, number>;
  lastSeen: Record<string, number>;
  lastSmokeTestAt: Record<string, number>;
}

export function freshHomeState(now: number): HomeState {
  return {
    mode: 'home',
    modeUntil: null,
    watchedSince: now,
    lastActivityAt: null,
    lastActivityType: null,
    lastMotionAt: null,
    doors: {},
    batteryLow: {},
    offline: {},
    lastSeen: {},
    lastSmokeTestAt: {},
  };
}
