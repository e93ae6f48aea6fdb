import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderLease } from '../../hub/src/cluster/leader-lease.js';
import { createLogger } from '../../hub/src/log.js';
import { NatsCluster, natsServerInstalled } from '../helpers/nats-cluster.js';

/**
 * The leader's lease on a real nats-server (JetStream key-value bucket with a max age): one leader
 * at a time among several candidates, a graceful hand-over, and a leader cut off from NATS that
 * steps down on its own before anyone else can take the lease. Two leaders at once would fire
 * every timer twice and send every device command twice.
 */
const LEASE_MS = 1500;
const log = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Candidate {
  name: string;
  nc: NatsConnection;
  lease: LeaderLease;
  events: Array<{ what: 'gained' | 'lost'; at: number }>;
}

describe('leader lease (JetStream key-value)', () => {
  let dir: string;
  let nats: NatsCluster;
  const candidates: Candidate[] = [];

  beforeAll(async () => {
    if (!natsServerInstalled()) throw new Error('nats-server is missing: apt-get install nats-server');
    dir = mkdtempSync(join(tmpdir(), 'carehub-lease-'));
    nats = await NatsCluster.start(dir, 1);
  }, 30_000);

  afterAll(async () => {
    for (const c of candidates) {
      await c.lease.stop().catch(() => {});
      await c.nc.close().catch(() => {});
    }
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function candidate(name: string, bucket: string): Promise<Candidate> {
    const nc = await connect({ servers: nats.urls, reconnect: false });
    const kv = await nc.jetstream().views.kv(bucket, { history: 1, ttl: LEASE_MS });
    const events: Candidate['events'] = [];
    const lease = new LeaderLease(
      kv,
      name,
      LEASE_MS,
      {
        gained: () => events.push({ what: 'gained', at: Date.now() }),
        lost: () => events.push({ what: 'lost', at: Date.now() }),
      },
      log,
    );
    const c = { name, nc, lease, events };
    candidates.push(c);
    return c;
  }

  /** Samples who leads every 10 ms for `ms`; returns the most leaders seen at one moment. */
  async function mostLeaders(cs: Candidate[], ms: number): Promise<number> {
    let most = 0;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      most = Math.max(most, cs.filter((c) => c.lease.isLeader).length);
      await sleep(10);
    }
    return most;
  }

  it('three candidates: exactly one leads, all agree who; a stopped leader hands over', {
    timeout: 30_000,
  }, async () => {
    const cs = [
      await candidate('a', 'lease-1'),
      await candidate('b', 'lease-1'),
      await candidate('c', 'lease-1'),
    ];
    for (const c of cs) c.lease.start();
    await expect.poll(() => cs.filter((c) => c.lease.isLeader).length, { timeout: 5000 }).toBe(1);
    expect(await mostLeaders(cs, 2 * LEASE_MS)).toBe(1);
    const leader = cs.find((c) => c.lease.isLeader) as Candidate;
    await expect.poll(() => new Set(cs.map((c) => c.lease.leader)).size, { timeout: 5000 }).toBe(1);
    expect(cs[0]?.lease.leader).toBe(leader.name);

    await leader.lease.stop();
    const rest = cs.filter((c) => c !== leader);
    await expect.poll(() => rest.filter((c) => c.lease.isLeader).length, { timeout: 5000 }).toBe(1);
    expect(await mostLeaders(rest, LEASE_MS)).toBe(1);
    for (const c of rest) await c.lease.stop();
  });

  it('a leader cut off from NATS steps down before another node takes the lease', {
    timeout: 30_000,
  }, async () => {
    const a = await candidate('a', 'lease-2');
    a.lease.start();
    await expect.poll(() => a.lease.isLeader, { timeout: 5000 }).toBe(true);
    const b = await candidate('b', 'lease-2');
    b.lease.start();
    await sleep(LEASE_MS);
    expect(b.lease.isLeader).toBe(false);
    expect(b.lease.leader).toBe('a');

    // a's connection is gone (no reconnect): it can renew nothing.
    await a.nc.close();
    await expect.poll(() => b.lease.isLeader, { timeout: 3 * LEASE_MS }).toBe(true);
    const lostA = a.events.find((e) => e.what === 'lost');
    const gainedB = b.events.find((e) => e.what === 'gained');
    expect(lostA).toBeDefined();
    expect(gainedB).toBeDefined();
    expect((lostA as { at: number }).at).toBeLessThan((gainedB as { at: number }).at);
    expect(a.lease.isLeader).toBe(false);
  });
});
