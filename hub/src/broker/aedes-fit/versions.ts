import { ErrorCodes, HubError } from '../../errors.js';
import { requireFromAedes, requireFromMqttPacket } from './aedes-deps.js';
import { leanParserFits } from './lean-parser.js';

/**
 * The versions the adaptations in this folder were written and tested against. They reach inside
 * aedes, aedes-persistence and mqtt-packet (private fields, replaced functions), so package.json
 * pins these exactly and the hub checks, at start, that they are what is installed: a different
 * version refuses the start with a coded error instead of running an adaptation that may no longer
 * fit. Moving to a new version: change these and package.json together, run
 * test/unit/lean-parser.test.ts, fast-acks.test.ts, broker-sessions and the bench.
 */
export const PINNED = {
  aedes: '1.2.0',
  'mqtt-packet': '9.0.2',
  'aedes-persistence': '11.0.0',
} as const;

export type PinnedPackage = keyof typeof PINNED;

/** Each adaptation: what it changes and why (docs/performance.md, docs/security.md). */
export const ADAPTATIONS = [
  { name: 'lean-parser', reaches: 'mqtt-packet Parser internals', why: 'speed, no CONNECT password kept' },
  { name: 'fast-acks', reaches: 'mqtt-packet writeToStream', why: 'speed: four-byte PUBACK' },
  { name: 'discard', reaches: 'aedes publish pipeline', why: 'speed: refused packets skip the fan-out' },
  { name: 'retained-index', reaches: 'aedes-persistence retained store', why: 'speed: O(1) SUBSCRIBE' },
  { name: 'subscribe-qos', reaches: 'aedes client parser events', why: 'SUBACK grants what is kept' },
  { name: 'session-store', reaches: 'aedes-persistence memory store', why: 'ACL on forward, bounded queues' },
] as const;

export interface AedesFit {
  ok: boolean;
  pinned: Record<PinnedPackage, string>;
  installed: Record<PinnedPackage, string>;
  adaptations: string[];
}

function installedVersion(name: PinnedPackage): string {
  if (name === 'aedes') return (requireFromAedes('./package.json') as { version: string }).version;
  if (name === 'mqtt-packet') return (requireFromMqttPacket('./package.json') as { version: string }).version;
  return (requireFromAedes(`${name}/package.json`) as { version: string }).version;
}

/** What is installed against what is pinned (shown in /healthz). */
export function aedesFit(installed: (name: PinnedPackage) => string = installedVersion): AedesFit {
  const names = Object.keys(PINNED) as PinnedPackage[];
  const found = Object.fromEntries(names.map((n) => [n, installed(n)])) as Record<PinnedPackage, string>;
  const ok = names.every((n) => found[n] === PINNED[n]) && leanParserFits;
  return { ok, pinned: { ...PINNED }, installed: found, adaptations: ADAPTATIONS.map((a) => a.name) };
}

/** Refuse to start on versions the adaptations were not written for. */
export function checkAedesFit(fit: AedesFit = aedesFit()): AedesFit {
  if (fit.ok) return fit;
  const wrong = (Object.keys(PINNED) as PinnedPackage[])
    .filter((n) => fit.installed[n] !== PINNED[n])
    .map((n) => `${n} ${fit.installed[n]} (CareHub is built for ${PINNED[n]})`);
  throw new HubError(
    ErrorCodes.BROKER_UNFIT,
    `the MQTT broker's packages are not the versions CareHub's adaptations were made for: ${
      wrong.length > 0 ? wrong.join(', ') : "mqtt-packet's parser no longer has the expected shape"
    }; install the pinned versions with \`npm ci\``,
    { details: fit },
  );
}
