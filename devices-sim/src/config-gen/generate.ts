import { hashSecret } from '../../../hub/src/auth/secrets.js';
import type { SiteHome, SiteSpec } from './site.js';

export interface GenerateOptions {
  homes: number;
  homesPerGrid: number;
  timezone: string;
  name: string;
  /** The one device secret of the site. */
  secret: string;
  /** scrypt cost N for the hashes (16384 is what `carehub hash-secret` uses). */
  hashCost: number;
  dataDir?: string;
}

/** `h1`, `h2`, … with an SOS button, a door contact and a smoke detector each. */
export function loadTestHomes(n: number, homesPerGrid: number): SiteHome[] {
  const homes: SiteHome[] = [];
  for (let i = 1; i <= n; i++) {
    homes.push({
      id: `h${i}`,
      grid: `g${Math.ceil(i / homesPerGrid)}`,
      address: `Generated home ${i}`,
      resident: { id: `r${i}`, name: `Resident ${i}`, birthYear: 1935 + (i % 20), wanderingRisk: false },
      devices: [
        { id: `h${i}-sos`, kind: 'sos_button' },
        { id: `h${i}-door`, kind: 'door_sensor' },
        { id: `h${i}-smoke`, kind: 'smoke_detector' },
      ],
    });
  }
  return homes;
}

/**
 * A site for load tests: every secret is hashed once (one device secret shared by every device,
 * one password per staff member: `<id>-demo`), so even 10 000 homes are generated in well under a
 * second and the hub does not spend minutes hashing.
 */
export async function generateSite(o: GenerateOptions): Promise<SiteSpec> {
  const params = { N: o.hashCost, r: 8, p: 1, keyLen: 32 };
  const [deviceSecretHash, supervisorHash, dutyHash] = await Promise.all([
    hashSecret(o.secret, params),
    hashSecret('supervisor1-demo', params),
    hashSecret('duty1-demo', params),
  ]);
  return {
    name: o.name,
    timezone: o.timezone,
    homes: loadTestHomes(o.homes, o.homesPerGrid),
    deviceSecret: o.secret,
    deviceSecretHash,
    staff: [
      { id: 'supervisor1', name: 'Supervisor (generated)', role: 'supervisor', passwordHash: supervisorHash },
      {
        id: 'duty1',
        name: 'Duty staff of g1 (generated)',
        role: 'duty',
        grids: ['g1'],
        passwordHash: dutyHash,
      },
    ],
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
  };
}
