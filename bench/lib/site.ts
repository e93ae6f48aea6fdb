import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fastHash, generateDeviceSecret } from '../../hub/src/auth/device-secrets.js';
import { hashSecret } from '../../hub/src/auth/secrets.js';
import { ROOT } from './hub-child.js';

let limitsSupported: boolean | undefined;
/**
 * Whether the built hub knows `mqtt.limits` (broker hardening). When it does, the bench raises only
 * `maxConnections` (default 10 000) to just under the open-file limit, so scenario 3 measures what
 * one process can hold; every other limit keeps its default.
 */
async function supportsLimits(): Promise<boolean> {
  if (limitsSupported === undefined) {
    const { parseConfig } = (await import(
      join(process.env.CAREHUB_BENCH_ROOT ?? ROOT, 'dist', 'hub', 'src', 'config', 'load.js')
    )) as {
      parseConfig: (raw: unknown) => unknown;
    };
    try {
      parseConfig({
        site: { name: 'x', timezone: 'UTC' },
        mqtt: { limits: { maxConnections: 19_900 } },
        homes: [{ id: 'h', address: 'a', grid: 'g' }],
        staff: [
          { id: 's', name: 's', role: 'admin', passwordHash: 'scrypt$2$1$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==' },
        ],
      });
      limitsSupported = true;
    } catch {
      limitsSupported = false;
    }
  }
  return limitsSupported;
}

let fastSupported: boolean | undefined;
/** Whether the built hub takes fast hashes of hub-made device secrets (`hmac-sha256$…`, issue 16). */
async function supportsFastHashes(): Promise<boolean> {
  if (fastSupported === undefined) {
    const { parseConfig } = (await import(
      join(process.env.CAREHUB_BENCH_ROOT ?? ROOT, 'dist', 'hub', 'src', 'config', 'load.js')
    )) as {
      parseConfig: (raw: unknown) => unknown;
    };
    try {
      parseConfig({
        site: { name: 'x', timezone: 'UTC' },
        homes: [
          {
            id: 'h',
            address: 'a',
            grid: 'g',
            devices: [{ id: 'd', kind: 'sos_button', secretHash: fastHash(DEVICE_SECRET) }],
          },
        ],
        staff: [
          { id: 's', name: 's', role: 'admin', passwordHash: 'scrypt$2$1$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==' },
        ],
      });
      fastSupported = true;
    } catch {
      fastSupported = false;
    }
  }
  return fastSupported;
}

/**
 * Generated bench sites: homes of four devices (SOS, door, smoke, motion), 50 homes per building,
 * 10 grids. Every device has the same secret, one the hub would make (`chs1_…`, made afresh each
 * run), and by default its own fast hash of it (`hmac-sha256$…`, a salt per device), as a site whose
 * devices were given hub-made secrets has. With `deviceHashes: 'scrypt'` one scrypt hash at
 * `scryptN` is shared by every device instead (the legacy entries; the hub still verifies it once
 * per device and process). `demo: false`, no demoSecret: the same shape as a production configuration.
 */
export const DEVICE_SECRET = generateDeviceSecret();
export const STAFF_USER = 'bench-sup';
export const STAFF_PASSWORD = 'bench-sup-password';
/** With `admin: true` the site also has an admin (site administration, scenario 9). */
export const ADMIN_USER = 'bench-admin';
export const ADMIN_PASSWORD = 'bench-admin-password';
export const HOMES_PER_BUILDING = 50;
/**
 * scrypt cost of the bench sites' staff password and, with `deviceHashes: 'scrypt'` (or a hub build
 * without fast hashes), of the shared device secret. The hub verifies a scrypt entry once per device
 * and process (then a cached HMAC), and at the production cost (N=16384, ~27 ms here) admitting
 * 10 000 fresh devices is minutes of scrypt, not broker work. So bench sites use N=16 (~30 µs, about
 * Mosquitto's PBKDF2-SHA512 x101), and the production cost is measured on its own (scenario 4, cold
 * admission).
 */
export const BENCH_SCRYPT_N = 16;
/** Homes 0-49 (building 0) are the latency probes, homes 50-99 (building 1) the smoke storm. */
export const RESERVED_HOMES = 100;
const KINDS = ['sos_button', 'door_sensor', 'smoke_detector', 'motion_sensor'] as const;
const SUFFIX: Record<(typeof KINDS)[number], string> = {
  sos_button: 'sos',
  door_sensor: 'door',
  smoke_detector: 'smoke',
  motion_sensor: 'motion',
};

export interface SiteOptions {
  dir: string;
  /** Devices for the load generators (rounded up to whole homes of 4), beyond the reserved homes. */
  loadDevices: number;
  /** scrypt cost N of the staff password and of scrypt device entries: BENCH_SCRYPT_N, or 16384 (production) for cold admission. */
  scryptN: number;
  /** 'fast' (default, when the built hub takes them): a fast hash per device; 'scrypt': one shared scrypt hash. */
  deviceHashes?: 'fast' | 'scrypt';
  feedMaxBacklogBytes?: number;
  influx?: { url: string; database: string; batchSize?: number };
  logLevel?: string;
  /** Device kinds per home (default: SOS, door, smoke, motion). */
  kinds?: ReadonlyArray<(typeof KINDS)[number]>;
  /** Add an admin staff member (ADMIN_USER) beside the supervisor, for the admin API. */
  admin?: boolean;
}

export interface Site {
  configFile: string;
  dataDir: string;
  homes: number;
  /** Device ids for the load generators (homes after the reserved ones). */
  loadIds: string[];
  /** SOS buttons of building 0, for latency probes. */
  probeIds: string[];
  /** Smoke detectors of building 1, for the smoke storm. */
  smokeIds: string[];
  secret: string;
  /** How device secrets are hashed in this site's configuration. */
  deviceHashes: 'fast' | 'scrypt';
  staff: { username: string; password: string };
  /** The admin staff member, when the site was made with `admin: true`. */
  admin?: { username: string; password: string };
  /** Every device id and its home (for Mosquitto's password file). */
  allIds: string[];
}

export const homeId = (n: number) => `h${String(n).padStart(6, '0')}`;
export const deviceId = (home: number, kind: (typeof KINDS)[number]) => `${homeId(home)}-${SUFFIX[kind]}`;
export const homeOfDevice = (id: string) => id.slice(0, id.lastIndexOf('-'));

export async function generateSite(opts: SiteOptions): Promise<Site> {
  mkdirSync(opts.dir, { recursive: true });
  const dataDir = join(opts.dir, 'data');
  const N = opts.scryptN;
  const deviceHashes =
    (opts.deviceHashes ?? 'fast') === 'fast' && (await supportsFastHashes()) ? 'fast' : 'scrypt';
  const [sharedHash, staffHash] = await Promise.all([
    hashSecret(DEVICE_SECRET, { N, r: 8, p: 1, keyLen: 32 }),
    hashSecret(STAFF_PASSWORD, { N, r: 8, p: 1, keyLen: 32 }),
  ]);
  const deviceHash = deviceHashes === 'fast' ? () => fastHash(DEVICE_SECRET) : () => sharedHash;
  const kinds = opts.kinds ?? KINDS;
  const homes = RESERVED_HOMES + Math.ceil(opts.loadDevices / kinds.length);
  const homeList: unknown[] = [];
  const loadIds: string[] = [];
  const allIds: string[] = [];
  for (let h = 0; h < homes; h++) {
    const building = Math.floor(h / HOMES_PER_BUILDING);
    const devices = (h < RESERVED_HOMES ? KINDS : kinds).map((kind) => ({
      id: deviceId(h, kind),
      kind,
      secretHash: deviceHash(),
    }));
    for (const d of devices) {
      allIds.push(d.id);
      if (h >= RESERVED_HOMES) loadIds.push(d.id);
    }
    homeList.push({
      id: homeId(h),
      address: `Bench Road ${building + 1}, flat ${(h % HOMES_PER_BUILDING) + 1}`,
      grid: `g${building % 10}`,
      residents: [{ id: `r${h}`, name: `Resident ${h}` }],
      devices,
    });
  }
  const config = {
    demo: false,
    site: { name: 'CareHub bench', timezone: 'Asia/Shanghai', locale: 'en' },
    dataDir,
    log: { level: opts.logLevel ?? 'info' },
    mqtt: {
      host: '127.0.0.1',
      port: 0,
      ...((await supportsLimits()) ? { limits: { maxConnections: 19_900 } } : {}),
    },
    http: { host: '127.0.0.1', port: 0 },
    ...(opts.feedMaxBacklogBytes ? { feed: { maxBacklogBytes: opts.feedMaxBacklogBytes } } : {}),
    ...(opts.influx
      ? {
          influx: {
            url: opts.influx.url,
            database: opts.influx.database,
            batchSize: opts.influx.batchSize ?? 1000,
          },
        }
      : {}),
    homes: homeList,
    staff: [
      { id: STAFF_USER, name: 'Bench supervisor', role: 'supervisor', passwordHash: staffHash },
      ...(opts.admin
        ? [
            {
              id: ADMIN_USER,
              name: 'Bench admin',
              role: 'admin',
              passwordHash: await hashSecret(ADMIN_PASSWORD, { N, r: 8, p: 1, keyLen: 32 }),
            },
          ]
        : []),
    ],
  };
  // JSON is YAML: the hub reads it with its ordinary loader.
  const configFile = join(opts.dir, 'carehub.yaml');
  writeFileSync(configFile, JSON.stringify(config));
  return {
    configFile,
    dataDir,
    homes,
    loadIds: loadIds.slice(0, opts.loadDevices),
    probeIds: Array.from({ length: HOMES_PER_BUILDING }, (_, h) => deviceId(h, 'sos_button')),
    smokeIds: Array.from({ length: HOMES_PER_BUILDING }, (_, h) =>
      deviceId(HOMES_PER_BUILDING + h, 'smoke_detector'),
    ),
    secret: DEVICE_SECRET,
    deviceHashes,
    staff: { username: STAFF_USER, password: STAFF_PASSWORD },
    ...(opts.admin ? { admin: { username: ADMIN_USER, password: ADMIN_PASSWORD } } : {}),
    allIds,
  };
}
