import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { stringify } from 'yaml';
import { hashSecret } from '../../hub/src/auth/secrets.js';
import { loadConfigFile } from '../../hub/src/config/load.js';
import { Replica } from '../../hub/src/core/replica.js';
import { createLogger } from '../../hub/src/log.js';
import type { LogEntry, Positioned } from '../../hub/src/model/entries.js';
import { type HubChild, startHubChild } from './hub-process.js';

export const SECRET = 'cluster-secret-do-not-use';

/**
 * A site of `homes` homes, each with an SOS button and a door sensor, and an admin and a supervisor.
 * `webhookUrl`: notifications on, a family contact of every home told by webhook 2 s into an alert.
 */
export async function writeClusterConfig(dir: string, homes: number, webhookUrl?: string): Promise<string> {
  // A cheap scrypt cost: every node verifies every device once per start.
  const secretHash = await hashSecret(SECRET, { N: 1024, r: 8, p: 1, keyLen: 32 });
  const list = Array.from({ length: homes }, (_, i) => {
    const id = `k${String(i).padStart(3, '0')}`;
    return {
      id,
      address: `Cluster Road ${i}`,
      grid: 'g1',
      ...(webhookUrl ? { contacts: [{ name: `Family ${i}`, relation: 'family', notify: ['webhook'] }] } : {}),
      devices: [
        { id: `${id}-sos`, kind: 'sos_button', secretHash },
        { id: `${id}-door`, kind: 'door_sensor', secretHash },
      ],
    };
  });
  const file = join(dir, 'cluster.yaml');
  writeFileSync(
    file,
    stringify({
      site: { name: 'Cluster', timezone: 'Asia/Shanghai', locale: 'en' },
      mqtt: { host: '127.0.0.1' },
      http: { host: '127.0.0.1' },
      ...(webhookUrl
        ? {
            notifications: {
              publicUrl: 'http://127.0.0.1:9',
              // Every node signs links with the same key (docs/notifications.md).
              linkSecret: 'cluster-link-secret-of-at-least-32-characters',
              ladder: [{ after: '2s', relations: ['family'] }],
              webhook: { url: webhookUrl, secret: 'whsec_Y2x1c3Rlci13ZWJob29rLXNlY3JldC1rZXk=' },
            },
          }
        : {}),
      homes: list,
      staff: [
        { id: 'sup', name: 'Supervisor', role: 'supervisor', passwordHash: secretHash },
        { id: 'adm', name: 'Admin', role: 'admin', passwordHash: secretHash },
      ],
    }),
  );
  return file;
}

export interface ClusterHub extends HubChild {
  node: string;
  dataDir: string;
}

/** `carehub start` as one node of the cluster (CAREHUB_NATS_URL, CAREHUB_NODE_ID). */
export async function startClusterHub(
  config: string,
  dataDir: string,
  natsUrls: string[],
  node: string,
  env: Record<string, string> = {},
): Promise<ClusterHub> {
  const hub = await startHubChild(config, dataDir, {
    env: { CAREHUB_NATS_URL: natsUrls.join(','), CAREHUB_NODE_ID: node, ...env },
  });
  return { ...hub, node, dataDir };
}

export interface Health {
  status: string;
  cluster?: { node: string; leader: string | null; applied: number; lagging: boolean };
}

export async function healthOf(httpUrl: string): Promise<Health | undefined> {
  try {
    const r = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
    return (await r.json()) as Health;
  } catch {
    return undefined;
  }
}

export async function login(httpUrl: string, username: string): Promise<string> {
  const r = await fetch(`${httpUrl}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: SECRET }),
  });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

/** Every entry of the replicated log after `from`, read with an ordered consumer. */
export async function readLog(urls: string[], from = 0, prefix = 'carehub'): Promise<Positioned[]> {
  const nc = await connect({ servers: urls });
  try {
    const jsm = await nc.jetstreamManager();
    const last = (await jsm.streams.info(`${prefix}-log`)).state.last_seq;
    const out: Positioned[] = [];
    if (last <= from) return out;
    const consumer = await nc.jetstream().consumers.get(`${prefix}-log`, { opt_start_seq: from + 1 });
    while ((out.at(-1)?.position ?? from) < last) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      for await (const m of batch) out.push({ position: m.seq, entry: JSON.parse(m.string()) as LogEntry });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/**
 * The state digest of each stopped node's data dir, each first brought to the end of the replicated
 * log as a restart would: all at the same position, so they must be equal.
 */
export async function digestsAtLogEnd(
  config: string,
  dataDirs: string[],
  urls: string[],
): Promise<Array<{ position: number; total: string }>> {
  const out: Array<{ position: number; total: string }> = [];
  for (const dataDir of dataDirs) {
    const replica = Replica.open(loadConfigFile(config, { CAREHUB_DATA_DIR: dataDir }), createLogger('warn'));
    try {
      const missing = await readLog(urls, replica.position);
      for (let i = 0; i < missing.length; i += 500) replica.copy(missing.slice(i, i + 500));
      const d = replica.digest();
      out.push({ position: d.position, total: d.total });
    } finally {
      replica.close();
    }
  }
  return out;
}
