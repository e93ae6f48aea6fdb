import { hashSecret } from '../../../hub/src/auth/secrets.js';
import { type SiteHome, siteConfig } from '../config-gen/site.js';
import type { Prng } from '../util/prng.js';
import { drawPersona, type Persona } from './persona.js';

const DEVICE_SECRET = 'carehub-routine-demo';
/** A cheap scrypt cost: the site lives in a temporary in-process hub for one run. */
const HASH = { N: 1024, r: 8, p: 1, keyLen: 32 };
let secretHash: Promise<string> | undefined;

export interface RoutineSite {
  raw: Record<string, unknown>;
  personas: Persona[];
  tz: string;
}

/**
 * N homes with one resident each: an SOS button, a door contact and a smoke detector everywhere,
 * a motion sensor in two homes of three (h2, h5, h8, … are door-only), and every fifth resident
 * (h1, h6, …) flagged as a wandering risk. The device secret is hashed once per process.
 */
export async function routineSite(n: number, rng: Prng, tz = 'Asia/Shanghai'): Promise<RoutineSite> {
  secretHash ??= hashSecret(DEVICE_SECRET, HASH);
  const hash = await secretHash;
  const homes: SiteHome[] = [];
  const personas: Persona[] = [];
  for (let i = 1; i <= n; i++) {
    const hasMotion = i % 3 !== 2;
    const wanderingRisk = i % 5 === 1;
    const devices = {
      sos: `h${i}-sos`,
      door: `h${i}-door`,
      smoke: `h${i}-smoke`,
      ...(hasMotion ? { motion: `h${i}-motion` } : {}),
    };
    homes.push({
      id: `h${i}`,
      grid: `g${Math.ceil(i / 10)}`,
      address: `Routine home ${i}`,
      resident: { id: `r${i}`, name: `Resident ${i}`, birthYear: 1930 + ((i * 7) % 20), wanderingRisk },
      devices: [
        { id: devices.sos, kind: 'sos_button' },
        { id: devices.door, kind: 'door_sensor' },
        { id: devices.smoke, kind: 'smoke_detector' },
        ...(devices.motion ? [{ id: devices.motion, kind: 'motion_sensor' as const }] : []),
      ],
    });
    personas.push(drawPersona(rng.fork(`persona:${i}`), `h${i}`, `r${i}`, devices, wanderingRisk));
  }
  const raw = siteConfig({
    name: `Routine run (${n} residents)`,
    timezone: tz,
    homes,
    deviceSecret: DEVICE_SECRET,
    deviceSecretHash: hash,
    // The drill adds its own supervisor; the schema wants at least one staff member.
    staff: [{ id: 'supervisor1', name: 'Supervisor', role: 'supervisor', passwordHash: hash }],
  });
  return { raw, personas, tz };
}
