import type { LadderStep, NotificationsConfig, QuietRule } from '../config/notify-schema.js';
import type { ContactConfig, HomeConfig } from '../config/schema.js';
import type { NotifyChannel } from '../model/notify.js';
import { inLocalWindow, nextLocalTime } from '../time/local.js';

/** The ladder a home's alerts follow: its own, else the site's; none when the home turned it off. */
export function ladderFor(n: NotificationsConfig, home: HomeConfig): readonly LadderStep[] {
  if (home.notifications?.off) return [];
  return home.notifications?.ladder ?? n.ladder;
}

export function quietRulesFor(n: NotificationsConfig, home: HomeConfig): readonly QuietRule[] {
  return home.notifications?.quiet ?? n.quiet;
}

/** Does a step apply to an alert of this kind? */
export const stepApplies = (step: LadderStep, kind: string) =>
  !step.kinds || step.kinds.includes(kind as never);

/**
 * When a quiet window that holds alerts of `kind` at `at` ends (the home's local time); undefined
 * when no rule holds it now. With overlapping windows, the latest end among those holding it.
 */
export function quietUntil(
  rules: readonly QuietRule[],
  kind: string,
  at: number,
  tz: string,
): number | undefined {
  let until: number | undefined;
  for (const r of rules) {
    if (!r.kinds.includes(kind as never) || !inLocalWindow(at, tz, r.from, r.to)) continue;
    const end = nextLocalTime(at, tz, r.to);
    if (until === undefined || end > until) until = end;
  }
  return until;
}

/** Why a channel a contact asks for cannot be used; undefined when it can. */
export function channelProblem(
  channel: NotifyChannel,
  contact: ContactConfig,
  n: NotificationsConfig,
  home: HomeConfig,
): string | undefined {
  switch (channel) {
    case 'email':
      if (!n.smtp) return 'no smtp settings';
      return contact.email ? undefined : 'no email address';
    case 'webhook':
      return n.webhook ? undefined : 'no webhook settings';
    case 'sms':
      if (!n.sms) return 'no sms settings';
      return contact.phone ? undefined : 'no phone number';
    case 'wecom':
      return robotFor(n.wecom, home) ? undefined : 'no WeCom robot for the grid';
    case 'dingtalk':
      return robotFor(n.dingtalk, home) ? undefined : 'no DingTalk robot for the grid';
  }
}

/** The channels of a contact that can reach them, in the order the contact listed them. */
export function reachableChannels(
  contact: ContactConfig,
  n: NotificationsConfig,
  home: HomeConfig,
): NotifyChannel[] {
  return contact.notify.filter((c) => channelProblem(c, contact, n, home) === undefined);
}

interface Robot {
  url: string;
  secret?: string | undefined;
}

/** A home's group robot: its grid's, else the site's. */
export function robotFor(
  robots: (Robot & { byGrid?: Record<string, Robot> | undefined }) | undefined,
  home: HomeConfig,
): Robot | undefined {
  if (!robots) return undefined;
  return robots.byGrid?.[home.grid] ?? robots;
}
