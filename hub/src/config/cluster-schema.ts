import { z } from 'zod';

const natsUrl = z
  .string()
  .regex(/^(nats|tls):\/\/[^\s/]+$/, 'a NATS server URL like nats://10.0.0.5:4222')
  .max(500);

/**
 * PROTOCOL.md §8: with `cluster` (or CAREHUB_NATS_URL and CAREHUB_NODE_ID) this hub is one node of
 * a cluster on a NATS JetStream cluster (docs/cluster.md). Without it the hub runs alone.
 */
export const clusterSchema = z.strictObject({
  /** The NATS servers, any of them (the client finds the rest). */
  natsUrls: z.array(natsUrl).min(1).max(16),
  /** This node's name, unique in the cluster. */
  nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
  /** Replicas of the log and the buckets; by default 3 when the NATS cluster has 3 or more servers, else 1. */
  replicas: z.number().int().min(1).max(5).optional(),
  /** The leader's lease: a node that has not renewed it for this long is no longer the leader. */
  leaseMs: z.number().int().min(1000).max(60_000).default(4000),
  /** Names of the stream and the buckets (several sites on one NATS cluster use different prefixes). */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('carehub'),
});

export type ClusterConfig = z.output<typeof clusterSchema>;
