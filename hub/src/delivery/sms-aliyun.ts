import { createHmac, randomUUID } from 'node:crypto';
import type { NotificationsConfig } from '../config/notify-schema.js';
import { type ChannelAdapter, type Delivery, type SendResult, scrub } from './channel.js';
import { networkFailure, post } from './http-post.js';

type Sms = NonNullable<NotificationsConfig['sms']>;

/** RFC 3986 percent-encoding as Alibaba Cloud's RPC signature wants it. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Alibaba Cloud RPC signature (SignatureVersion 1.0): HMAC-SHA1 with key `secret&` over
 * `POST&%2F&<percent-encoded canonical query>`, parameters sorted by name.
 */
export function aliyunSignature(params: Record<string, string>, secret: string, method = 'POST'): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] as string)}`)
    .join('&');
  const toSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(toSign).digest('base64');
}

/** A phone number as SendSms wants it: digits; mainland numbers without 86, others with their country code. */
export function smsNumber(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length === 13 && digits.startsWith('86') ? digits.slice(2) : digits;
}

const RATE_LIMITED = new Set([
  'isv.BUSINESS_LIMIT_CONTROL',
  'Throttling',
  'Throttling.User',
  'Throttling.Api',
]);
const TRANSIENT = new Set([
  'ServiceUnavailable',
  'InternalError',
  'isp.SYSTEM_ERROR',
  'isp.RAM_PERMISSION_DENY',
]);

/**
 * SMS through an HTTP gateway; this adapter speaks Alibaba Cloud SMS (dysmsapi SendSms, version
 * 2017-05-25) with a template per language: TemplateParam {title, minutes, link}. Another
 * provider is another adapter of the same interface (docs/notifications.md).
 */
export class AliyunSmsChannel implements ChannelAdapter {
  readonly channel = 'sms' as const;
  constructor(
    private readonly sms: Sms,
    private readonly siteLocale: string,
    private readonly realNow: () => number = Date.now,
  ) {}

  bucket(): string {
    return 'sms';
  }

  /** The form parameters of one SendSms request, signed. */
  request(d: Delivery, nonce: string = randomUUID()): Record<string, string> {
    const template = this.sms.templates[d.message.lang] ?? this.sms.templates[this.siteLocale] ?? '';
    const params: Record<string, string> = {
      AccessKeyId: this.sms.accessKeyId,
      Action: 'SendSms',
      Format: 'JSON',
      OutId: d.id.slice(0, 64),
      PhoneNumbers: smsNumber(d.contact.phone ?? ''),
      RegionId: this.sms.regionId,
      SignName: this.sms.signName,
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: nonce,
      SignatureVersion: '1.0',
      TemplateCode: template,
      TemplateParam: JSON.stringify({
        title: d.message.title.slice(0, 35),
        minutes: String(d.message.minutes),
        link: d.webhook.ackUrl ?? '',
      }),
      Timestamp: new Date(this.realNow()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: '2017-05-25',
    };
    return { ...params, Signature: aliyunSignature(params, this.sms.accessKeySecret) };
  }

  async send(batch: readonly Delivery[]): Promise<SendResult> {
    const d = batch[0];
    if (!d?.contact.phone) return { outcome: 'permanent', detail: 'no phone number' };
    const form = new URLSearchParams(this.request(d)).toString();
    try {
      const res = await post(this.sms.endpoint, form, {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      });
      let answer: { Code?: unknown; Message?: unknown };
      try {
        answer = JSON.parse(res.text) as typeof answer;
      } catch {
        return {
          outcome: res.status >= 500 ? 'transient' : 'permanent',
          detail: `HTTP ${res.status}, not JSON`,
        };
      }
      const code = String(answer.Code ?? '');
      const detail = `${code} ${scrub(String(answer.Message ?? ''), 80)}`.trim();
      if (code === 'OK') return { outcome: 'sent', detail: 'OK' };
      if (RATE_LIMITED.has(code)) return { outcome: 'rate_limited', detail, retryAfterMs: 60_000 };
      if (TRANSIENT.has(code) || res.status >= 500) return { outcome: 'transient', detail };
      return { outcome: 'permanent', detail };
    } catch (err) {
      return networkFailure(err);
    }
  }
}
