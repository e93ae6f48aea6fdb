import { metricSum } from '../util/prometheus.js';
import type { HubClient } from './hub-client.js';

/**
 * Device messages the hub acknowledged but dropped under its per-device publish rate limit so far.
 * A drill plays hours in seconds, so a hub with that limit on loses drill events silently: the
 * drills compare this count before and after, and fail loudly instead.
 */
export async function rateLimited(client: HubClient): Promise<number> {
  return metricSum(await client.metrics(), 'carehub_ingest_rejected_total', { reason: 'rate_limited' });
}
