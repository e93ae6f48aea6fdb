import type { HubConfig } from '../config/schema.js';
import { CHANNEL_NAMES } from './ladder.js';
import { channelProblem, ladderFor, reachableChannels } from './plan.js';

export interface NotifyWarning {
  path: string;
  message: string;
}

/**
 * What a configuration would leave untold: a contact on a home's ladder whom no channel can reach,
 * a channel a contact asks for that cannot be used. Warnings, not errors: the hub still starts
 * (`carehub check-config` prints them, the hub logs them at start, the alert gets a note).
 */
export function notifyWarnings(config: Readonly<HubConfig>): NotifyWarning[] {
  const n = config.notifications;
  const out: NotifyWarning[] = [];
  if (!n) {
    if (config.homes.some((h) => h.contacts.some((c) => c.notify.length > 0)))
      out.push({
        path: 'notifications',
        message: 'contacts list channels but notifications are not configured',
      });
    return out;
  }
  config.homes.forEach((home, hi) => {
    const relations = new Set(ladderFor(n, home).flatMap((s) => s.relations));
    home.contacts.forEach((contact, ci) => {
      const path = `homes[${hi}].contacts[${ci}]`;
      for (const channel of contact.notify) {
        const problem = channelProblem(channel, contact, n, home);
        if (problem) out.push({ path: `${path}.notify`, message: `${CHANNEL_NAMES[channel]}: ${problem}` });
      }
      if (relations.has(contact.relation) && reachableChannels(contact, n, home).length === 0)
        out.push({
          path,
          message: `on the ladder (${contact.relation}) but no channel can reach this contact`,
        });
    });
  });
  return out;
}
