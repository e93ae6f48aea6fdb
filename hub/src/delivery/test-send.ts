import { randomBytes } from 'node:crypto';
import type { HomeConfig } from '../config/schema.js';
import { ErrorCodes, HubError } from '../errors.js';
import type { NotifyChannel } from '../model/notify.js';
import { channelProblem } from '../notify/plan.js';
import type { ChannelAdapter, SendResult } from './channel.js';
import { type ComposeParts, composeTest } from './compose.js';

/**
 * A test message to one contact on one channel, sent now (console: an installer checks a number or
 * a robot before it matters). Not an outbox row: nothing retries it; the caller audits it.
 */
export async function testSend(
  parts: ComposeParts,
  channels: Partial<Record<NotifyChannel, ChannelAdapter>>,
  home: HomeConfig,
  index: number,
  channel: NotifyChannel,
): Promise<SendResult> {
  const contact = home.contacts[index];
  if (!contact) throw new HubError(ErrorCodes.NOT_FOUND, `home ${home.id} has no contact ${index}`);
  const problem = channelProblem(channel, contact, parts.config, home);
  const adapter = channels[channel];
  if (problem || !adapter) return { outcome: 'permanent', detail: problem ?? 'channel not configured' };
  const id = `test-${randomBytes(8).toString('hex')}`;
  try {
    return await adapter.send([composeTest(parts, id, home, index, contact)]);
  } catch (err) {
    return { outcome: 'transient', detail: (err as Error).message?.slice(0, 80) ?? 'error' };
  }
}
