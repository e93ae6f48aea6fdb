import { createHmac } from 'node:crypto';
import type { NotificationsConfig } from '../config/notify-schema.js';
import { type ChannelAdapter, type Delivery, type SendResult, scrub } from './channel.js';
import { networkFailure, post } from './http-post.js';

type Robots = NonNullable<NotificationsConfig['wecom']>;
interface Robot {
  url: string;
  secret?: string | undefined;
}

const robotOf = (robots: Robots, grid: string): Robot => robots.byGrid?.[grid] ?? robots;

/** A phone as the robots' mention lists want it: digits, mainland numbers without +86. */
export function mentionNumber(phone: string | undefined): string | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) return digits.slice(2);
  return digits.length >= 5 ? digits : undefined;
}

/** The robot's JSON answer: `errcode` 0 is success; `limitCode` is its "too many messages" code. */
function byErrcode(status: number, text: string, limitCode: number): SendResult {
  if (status >= 500 || status === 429) return { outcome: 'transient', detail: `HTTP ${status}` };
  let answer: { errcode?: unknown; errmsg?: unknown };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    return { outcome: status >= 400 ? 'permanent' : 'transient', detail: `HTTP ${status}, not JSON` };
  }
  const code = typeof answer.errcode === 'number' ? answer.errcode : Number.NaN;
  const detail = `errcode ${answer.errcode} ${scrub(String(answer.errmsg ?? ''), 80)}`.trim();
  if (code === 0) return { outcome: 'sent', detail: 'errcode 0' };
  if (code === limitCode) return { outcome: 'rate_limited', detail, retryAfterMs: 60_000 };
  if (code === -1) return { outcome: 'transient', detail }; // "system busy"
  return { outcome: 'permanent', detail };
}

/**
 * One group message for a step's contacts: the headline, then a line per contact with their own
 * link (DingTalk shows a mention only when `@number` is in the text too).
 */
function groupText(batch: readonly Delivery[], atInText: boolean): string {
  const first = batch[0];
  if (!first) return '';
  if (!first.row) return first.message.text;
  const lines = batch.map((d) => {
    const at = atInText && mentionNumber(d.contact.phone) ? `@${mentionNumber(d.contact.phone)} ` : '';
    return `${at}${d.contact.name}: ${d.webhook.ackUrl ?? ''}`;
  });
  return [first.message.headline, ...lines].join('\n');
}

/** Group-robot messages batch the contacts of one step (same robot, alert, step and language) into one. */
const batchKeyOf = (name: string, robots: Robots, d: Delivery) =>
  `${name}|${robotOf(robots, d.grid).url}|${d.row?.alertId ?? d.id}|${d.row?.step ?? 0}|${d.message.lang}`;

/**
 * WeCom (企业微信) group robot: POST {msgtype: text, text: {content, mentioned_mobile_list}} to the
 * robot's webhook URL; errcode 45009 is its rate limit (20 messages a minute per robot).
 */
export class WecomChannel implements ChannelAdapter {
  readonly channel = 'wecom' as const;
  constructor(private readonly robots: Robots) {}

  batchKey(d: Delivery): string {
    return batchKeyOf('wecom', this.robots, d);
  }

  bucket(d: Delivery): string {
    return `wecom|${robotOf(this.robots, d.grid).url}`;
  }

  async send(batch: readonly Delivery[]): Promise<SendResult> {
    const first = batch[0];
    if (!first) return { outcome: 'permanent', detail: 'nothing to send' };
    const mentions = batch.map((d) => mentionNumber(d.contact.phone)).filter((m) => m !== undefined);
    const body = JSON.stringify({
      msgtype: 'text',
      text: { content: groupText(batch, false), mentioned_mobile_list: mentions },
    });
    try {
      const res = await post(robotOf(this.robots, first.grid).url, body, {
        'content-type': 'application/json',
      });
      return byErrcode(res.status, res.text, 45009);
    } catch (err) {
      return networkFailure(err);
    }
  }
}

/** DingTalk's signature for a robot with 加签: base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")). */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/**
 * DingTalk (钉钉) group robot: POST {msgtype: text, text: {content}, at: {atMobiles}} to the
 * robot's URL, signed with `timestamp` and `sign` query parameters when the robot has a secret;
 * errcode 130101 is its rate limit (20 messages a minute per robot).
 */
export class DingtalkChannel implements ChannelAdapter {
  readonly channel = 'dingtalk' as const;
  constructor(
    private readonly robots: Robots,
    private readonly realNow: () => number = Date.now,
  ) {}

  batchKey(d: Delivery): string {
    return batchKeyOf('dingtalk', this.robots, d);
  }

  bucket(d: Delivery): string {
    return `dingtalk|${robotOf(this.robots, d.grid).url}`;
  }

  async send(batch: readonly Delivery[]): Promise<SendResult> {
    const first = batch[0];
    if (!first) return { outcome: 'permanent', detail: 'nothing to send' };
    const robot = robotOf(this.robots, first.grid);
    const mentions = batch.map((d) => mentionNumber(d.contact.phone)).filter((m) => m !== undefined);
    const body = JSON.stringify({
      msgtype: 'text',
      text: { content: groupText(batch, true) },
      at: { atMobiles: mentions, isAtAll: false },
    });
    let url = robot.url;
    if (robot.secret) {
      const ts = this.realNow();
      const sign = encodeURIComponent(dingtalkSign(robot.secret, ts));
      url += `${url.includes('?') ? '&' : '?'}timestamp=${ts}&sign=${sign}`;
    }
    try {
      const res = await post(url, body, { 'content-type': 'application/json' });
      return byErrcode(res.status, res.text, 130101);
    } catch (err) {
      return networkFailure(err);
    }
  }
}
