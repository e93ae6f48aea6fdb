import type { Prng } from '../util/prng.js';

/** The devices of one resident's home (one resident per home). */
export interface HomeDevices {
  sos: string;
  door: string;
  smoke: string;
  motion?: string;
}

/** One resident's habits: the seed of every day the generator plays for them. */
export interface Persona {
  homeId: string;
  residentId: string;
  devices: HomeDevices;
  wanderingRisk: boolean;
  /** Usual waking and bed times, minutes after local midnight. */
  wakeMin: number;
  bedMin: number;
  /** Day-to-day spread of waking and bed times (standard deviation, minutes; clipped at ±45). */
  jitterMin: number;
  /** Mean minutes between motion-sensor reports while up and at home. */
  motionEveryMin: number;
  /** Mean night-time bathroom visits. */
  bathroomPerNight: number;
  napChance: number;
  /** Chance per day of each kind of outing. */
  outings: { market: number; canteen: number; afternoon: number; evening: number; familyDay: number };
  /** Chance per day of short door use while staying home. */
  rubbishChance: number;
  visitorChance: number;
  deliveryChance: number;
  /** Hears the SOS button's check-in beep less often than most. */
  hardOfHearing: boolean;
  /** Chance of answering a check-in request when at home and awake (asleep: less, out or fallen: never). */
  answerChance: number;
  /** Mean minutes to get to the button and press it. */
  answerDelayMin: number;
}

/**
 * Habits drawn per person, within ranges typical of people over 75 living alone: in bed between
 * 20:45 and 22:30 for 7.5 to 9.75 hours (so up between about 04:15 and 08:15); errands, a
 * community canteen, an afternoon walk; a nap for many; a few bathroom visits at night. One in five
 * is hard of hearing (answers a check-in beep half to three quarters of the time; others 95-99.5 %).
 * The answering traits are drawn last, so the days of a seed are those of earlier versions.
 */
export function drawPersona(
  rng: Prng,
  homeId: string,
  residentId: string,
  devices: HomeDevices,
  wanderingRisk: boolean,
): Persona {
  const bedMin = rng.between(20 * 60 + 45, 22 * 60 + 30);
  const inBedMin = rng.between(7.5 * 60, 9.75 * 60);
  return {
    homeId,
    residentId,
    devices,
    wanderingRisk,
    wakeMin: bedMin + inBedMin - 24 * 60,
    bedMin,
    jitterMin: rng.between(10, 25),
    motionEveryMin: rng.between(8, 25),
    bathroomPerNight: rng.between(0.3, 2),
    napChance: rng.between(0.2, 0.8),
    outings: {
      market: rng.between(0.3, 0.8),
      canteen: rng.between(0, 0.6),
      afternoon: rng.between(0.2, 0.7),
      evening: rng.between(0, 0.4),
      familyDay: rng.between(0, 0.06),
    },
    rubbishChance: rng.between(0.3, 0.8),
    visitorChance: rng.between(0.05, 0.35),
    deliveryChance: rng.between(0.05, 0.25),
    ...answering(rng),
  };
}

function answering(rng: Prng): Pick<Persona, 'hardOfHearing' | 'answerChance' | 'answerDelayMin'> {
  const hardOfHearing = rng.chance(0.2);
  return {
    hardOfHearing,
    answerChance: hardOfHearing ? rng.between(0.5, 0.75) : rng.between(0.95, 0.995),
    answerDelayMin: rng.between(0.5, 4),
  };
}
