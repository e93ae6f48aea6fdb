import type { NotificationsConfig } from '../config/notify-schema.js';
import type { NotifyChannel } from '../model/notify.js';
import type { ChannelAdapter } from './channel.js';
import { EmailChannel } from './email-channel.js';
import { DingtalkChannel, WecomChannel } from './robot-channels.js';
import { AliyunSmsChannel } from './sms-aliyun.js';
import { WebhookChannel } from './webhook-channel.js';

/** An adapter for every channel the configuration sets up. */
export function buildChannels(
  n: NotificationsConfig,
  siteLocale: string,
  realNow: () => number = Date.now,
): Partial<Record<NotifyChannel, ChannelAdapter>> {
  const out: Partial<Record<NotifyChannel, ChannelAdapter>> = {};
  if (n.smtp) out.email = new EmailChannel(n.smtp);
  if (n.webhook) out.webhook = new WebhookChannel(n.webhook, realNow);
  if (n.wecom) out.wecom = new WecomChannel(n.wecom);
  if (n.dingtalk) out.dingtalk = new DingtalkChannel(n.dingtalk, realNow);
  if (n.sms) out.sms = new AliyunSmsChannel(n.sms, siteLocale, realNow);
  return out;
}
