import type { FastifyInstance } from 'fastify';
import type { ClusterStatus } from '../../cluster/cluster-node.js';
import type { NodeStatus } from '../../cluster/node-registry.js';
import { ErrorCodes, HubError } from '../../errors.js';
import { staffOf } from '../request-guards.js';

export interface ClusterSource {
  status(): ClusterStatus;
  nodes(): Promise<NodeStatus[]>;
}

/** PROTOCOL.md §8: the cluster's nodes as they last reported themselves (admins only). */
export function clusterRoutes(app: FastifyInstance, cluster: ClusterSource): void {
  app.get('/api/v1/cluster', { config: { auth: true } }, async (request) => {
    if (staffOf(request).role !== 'admin')
      throw new HubError(ErrorCodes.FORBIDDEN, 'only admins see the cluster');
    const self = cluster.status();
    const nodes = await cluster.nodes();
    return {
      node: self.node,
      leader: self.leader,
      nodes: nodes.map((n) => ({
        id: n.id,
        alive: n.alive,
        leader: n.leader,
        applied: n.applied,
        http: n.http,
        mqtt: n.mqtt,
        lastSeen: new Date(n.seenAt).toISOString(),
      })),
    };
  });
}
