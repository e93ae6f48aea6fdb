import type { AdminParams } from './admin.js';
import type { BrokerParams } from './broker.js';
import type { ClusterParams } from './cluster.js';
import type { ColdParams } from './cold-admission.js';
import type { ConnectionsParams } from './connections.js';
import type { MicroParams } from './micro.js';
import type { SoakParams } from './soak.js';
import type { StartupParams } from './startup.js';

interface Params {
  broker: BrokerParams;
  cold: ColdParams;
  connections: ConnectionsParams;
  startup: StartupParams;
  micro: MicroParams;
  soak: SoakParams;
  cluster: ClusterParams;
  admin: AdminParams;
}

/** Full: the sizes of the issue. Quick: every scenario scaled down to fit 3 minutes in total. */
export const PARAMS: Record<'quick' | 'full', Params> = {
  full: {
    broker: {
      loadDevices: 10_000,
      generators: 2,
      connectPerSecond: 1000,
      ingest: { warmupMs: 5000, durationMs: 60_000, window: 4000 },
      latency: { levels: [0, 5000, 10_000], settleMs: 3000, probeMs: 20_000, everyMs: 50 },
      storms: { windowMs: 10_000, smokeWindowMs: 10_000 },
    },
    cold: { fastDevices: 5000, scryptDevices: 1000 },
    connections: {
      maxDevices: 19_700,
      step: 4000,
      generators: 4,
      connectPerSecond: 2000,
      probeMs: 10_000,
      holdMs: 65_000,
    },
    startup: { journalRows: 10_000_000, timers: 100_000, influxRows: 1_000_000 },
    micro: {
      homes: 100_000,
      ruleEvents: 200_000,
      journalSeconds: 5,
      feedClients: 500,
      feedPhaseMs: 30_000,
      slowMaxMs: 120_000,
    },
    // The load of issue 23's measurement (`carehub-sim load`, 3 000 devices): 1 800 QoS 1 msg/s.
    soak: {
      minutes: 60,
      devices: 3000,
      generators: 2,
      heartbeatMs: 10_000,
      rate: 1500,
      window: 4000,
      sampleMs: 30_000,
      walBoundMB: 64,
      walCapMB: 16_384,
      probeEveryMs: 200,
    },
    cluster: {
      loadDevices: 300,
      window: 4,
      seconds: 15,
      probeSeconds: 15,
      probeEveryMs: 100,
      backgroundRate: 500,
    },
    admin: {
      loadDevices: 10_000,
      generators: 2,
      connectPerSecond: 1000,
      background: 5000,
      settleMs: 3000,
      phaseMs: 30_000,
      rounds: 3,
      everyMs: 50,
      changeEveryMs: 1000,
    },
  },
  quick: {
    broker: {
      loadDevices: 2000,
      generators: 2,
      connectPerSecond: 2000,
      ingest: { warmupMs: 2000, durationMs: 6000, window: 2000 },
      latency: { levels: [0, 5000, 10_000], settleMs: 1000, probeMs: 3000, everyMs: 50 },
      storms: { windowMs: 3000, smokeWindowMs: 3000 },
    },
    cold: { fastDevices: 1000, scryptDevices: 100 },
    connections: {
      maxDevices: 2000,
      step: 2000,
      generators: 2,
      connectPerSecond: 2000,
      probeMs: 2000,
      holdMs: 3000,
    },
    startup: { journalRows: 500_000, timers: 10_000, influxRows: 50_000 },
    micro: {
      homes: 5000,
      ruleEvents: 20_000,
      journalSeconds: 0.6,
      feedClients: 100,
      feedPhaseMs: 3000,
      slowMaxMs: 4000,
    },
    soak: {
      minutes: 0.5,
      devices: 1000,
      generators: 2,
      heartbeatMs: 10_000,
      rate: 1500,
      window: 2000,
      sampleMs: 5000,
      walBoundMB: 64,
      walCapMB: 4096,
      probeEveryMs: 200,
    },
    cluster: {
      loadDevices: 150,
      window: 4,
      seconds: 6,
      probeSeconds: 5,
      probeEveryMs: 100,
      backgroundRate: 300,
    },
    admin: {
      loadDevices: 2000,
      generators: 2,
      connectPerSecond: 2000,
      background: 5000,
      settleMs: 1000,
      phaseMs: 6000,
      rounds: 2,
      everyMs: 50,
      changeEveryMs: 1000,
    },
  },
};
