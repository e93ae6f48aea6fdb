/** Runner ⇄ load generator messages (Node IPC). Every request gets exactly one reply with its id. */
export interface ConnectArgs {
  host: string;
  port: number;
  /** Source addresses, used by the devices in turn. */
  localAddresses: string[];
  ids: string[];
  secret: string;
  /** Connections started per second (paced), at most `concurrency` CONNECTs outstanding. */
  perSecond: number;
  concurrency: number;
  /** Behave as installed devices (SimDevice announce): retained online status and an offline will. */
  announce: boolean;
  timeoutMs: number;
  /** Give up on the whole step after this long. */
  deadlineMs: number;
}

export interface ConnectResult {
  attempted: number;
  connected: number;
  failed: number;
  errors: Record<string, number>;
  ms: number;
  /** CONNECT → CONNACK + SUBACK (+ status PUBACK) per device, ms. */
  latencies: number[];
}

export type LoadArgs =
  | { mode: 'closed'; window: number }
  | { mode: 'rate'; perSecond: number; maxInflight: number };

export interface Counters {
  connected: number;
  sent: number;
  acked: number;
  failed: number;
  skipped: number;
  inflight: number;
  received: number;
  rssBytes: number;
}

export interface StormArgs {
  windowMs: number;
  timeoutMs: number;
  deadlineMs: number;
}

export interface FeedClientsArgs {
  wsUrl: string;
  token: string;
  count: number;
}

export interface SubClientsArgs {
  host: string;
  port: number;
  localAddress: string;
  username: string;
  password: string;
  topic: string;
  count: number;
}

export interface FanoutReport {
  /** Delivery latency (send → receipt) per message per client, ms, excluding the slow client. */
  latencies: number[];
  /** [receipt mono ms, latency ms] samples of the other clients, to show latency over time. */
  timeline: Array<[number, number]>;
  clients: number;
  openClients: number;
  /** The paused client: when (mono ms) and with which code it was closed, if it was. */
  slowClosedAt: number | null;
  slowCloseCode: number | null;
  missing: number;
}

export type Request =
  | { id: number; cmd: 'connect'; args: ConnectArgs }
  | { id: number; cmd: 'load'; args: LoadArgs }
  | { id: number; cmd: 'stopLoad' }
  | { id: number; cmd: 'heartbeats'; args: { everyMs: number } }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'storm'; args: StormArgs }
  | { id: number; cmd: 'sink'; args: SubClientsArgs }
  | { id: number; cmd: 'feedClients'; args: FeedClientsArgs }
  | { id: number; cmd: 'subClients'; args: SubClientsArgs }
  | { id: number; cmd: 'pauseOne'; args: { resumes: number } }
  | { id: number; cmd: 'fanoutReport'; args: { sent: Record<string, number>; sinceMono: number } }
  | { id: number; cmd: 'disconnect' };

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
