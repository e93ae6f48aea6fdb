import { createHmac } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aliyunSignature } from '../../hub/src/delivery/sms-aliyun.js';
import { checkLink } from '../../hub/src/notify/link-token.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import {
  DINGTALK_SECRET,
  notifyRaw,
  TestReceiver,
  TestSmtp,
  verifyWebhook,
  WEBHOOK_SECRET,
} from '../helpers/notify-servers.js';

/**
 * Issue 20 on the drill clock: an SOS nobody at the desk answers reaches the family at 60 s (a real
 * SMTP server on loopback, a webhook verified with the standardwebhooks package), the grid worker at
 * 180 s (webhook, and local stand-ins for WeCom, DingTalk and the SMS gateway: the real services
 * cannot be reached from here); the family member's link stops the ladder; a staff acknowledgement
 * before 60 s sends nothing.
 */
const smtp = new TestSmtp();
const hook = new TestReceiver({ status: 204, body: '' });
const wecom = new TestReceiver({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
const dingtalk = new TestReceiver({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
const sms = new TestReceiver({ status: 200, body: '{"Code":"OK","Message":"OK","BizId":"1"}' });
let t: TestHub;
let sup: string;
let device: MqttClient;
let n = 0;

beforeAll(async () => {
  await Promise.all([smtp.start(), hook.start(), wecom.start(), dingtalk.start(), sms.start()]);
});
afterAll(async () => {
  await Promise.all([smtp.stop(), hook.stop(), wecom.stop(), dingtalk.stop(), sms.stop()]);
});
beforeEach(async () => {
  const raw = notifyRaw(demoRaw(), {
    smtpPort: smtp.port,
    webhook: `${hook.url}/hook`,
    wecom: wecom.url,
    dingtalk: dingtalk.url,
    sms: sms.url,
  });
  t = await startHub({ raw, env: { CAREHUB_CLOCK: 'manual' }, manualClockStart: Date.now() });
  sup = await login(t.httpUrl, 'supervisor1');
  device = await connectDevice(t.mqttUrl, 'h1-sos');
  for (const r of [hook, wecom, dingtalk, sms]) r.requests.length = 0;
  smtp.mails.length = 0;
});
afterEach(async () => {
  await device?.endAsync();
  await t?.stop();
});

async function pressSos(): Promise<string> {
  await device.publishAsync(
    'carehub/v1/devices/h1-sos/events',
    JSON.stringify({ type: 'sos.pressed', id: `n-${++n}` }),
    {
      qos: 1,
    },
  );
  const rec = t.hub.store.alerts.findOpen('sos:h1');
  if (!rec) throw new Error('no SOS alert');
  return rec.alert.id;
}

/** Move the drill clock (as a supervisor through the API) and let the sender finish what fell due. */
async function advance(ms: number): Promise<void> {
  const r = await api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms } });
  expect(r.status).toBe(200);
  await settle();
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 30));
    await t.hub.notifier?.idle();
  }
}

const hooksFor = (relation: string) =>
  hook.requests.filter(
    (r) => (JSON.parse(r.body) as { contact: { relation: string } }).contact.relation === relation,
  );

describe('the notification ladder on the drill clock', () => {
  it('an unanswered SOS reaches the family at 60 s by email and webhook, the grid worker at 180 s; the link stops the ladder', async () => {
    const alertId = await pressSos();
    await advance(59_000);
    expect(smtp.mails).toHaveLength(0);
    expect(hook.requests).toHaveLength(0);

    await advance(1_000);
    await expect.poll(() => smtp.mails.length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => hook.requests.length, { timeout: 5000 }).toBe(1);
    // The email: to the daughter, in her language, with the address, the time waited and the link; no resident name.
    const mail = smtp.mails[0];
    expect(mail?.to).toEqual(['li.min@example.test']);
    expect(mail?.header('Message-ID')).toBe(`<${alertId}.1.0.email@carehub.invalid>`);
    const text = Buffer.from(mail?.raw ?? '').toString();
    expect(text).toMatch(/Wenting Lane 3-101/);
    expect(text).not.toMatch(/Wang Guifang/);
    // The webhook: PROTOCOL §6 body, verified with the package's verifier; webhook-id is the outbox row.
    const first = hook.requests[0];
    if (!first) throw new Error('no webhook');
    const body = verifyWebhook(WEBHOOK_SECRET, first) as {
      type: string;
      alert: { id: string; kind: string };
      contact: { relation: string; language: string };
      step: number;
      ackUrl: string;
    };
    expect(first.headers['webhook-id']).toBe(`${alertId}.1.0.webhook`);
    expect(body).toMatchObject({ type: 'alert.notify', alert: { id: alertId, kind: 'sos' }, step: 1 });
    expect(body.contact).toMatchObject({ relation: 'family', language: 'zh-CN' });
    expect(body.ackUrl).toMatch(/^https:\/\/carehub\.example\.test\/ack\//);
    expect(text).toContain(body.ackUrl.slice(-20));
    expect(() =>
      verifyWebhook(WEBHOOK_SECRET, { ...first, body: first.body.replace('sos', 'smoke') }),
    ).toThrow();
    expect(hooksFor('grid_worker')).toHaveLength(0);

    // 180 s: the grid worker by webhook, WeCom, DingTalk (signed) and SMS (signed), never twice.
    await advance(119_000);
    expect(hooksFor('grid_worker')).toHaveLength(0);
    await advance(1_000);
    await expect.poll(() => hooksFor('grid_worker').length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => wecom.requests.length + dingtalk.requests.length + sms.requests.length).toBe(3);
    const w = JSON.parse(wecom.requests[0]?.body ?? '{}') as {
      msgtype: string;
      text: { content: string; mentioned_mobile_list: string[] };
    };
    expect(wecom.requests[0]?.url).toBe('/cgi-bin/webhook/send?key=test-key');
    expect(w.msgtype).toBe('text');
    expect(w.text.mentioned_mobile_list).toEqual(['13900000002']);
    expect(w.text.content).toContain('紧急求救：文亭里3号101室 (Wenting Lane 3-101)');
    expect(w.text.content).toContain(
      `Zhao Qiang (grid worker): https://carehub.example.test/ack/${alertId}.1.`,
    );
    const d = dingtalk.requests[0];
    const q = new URL(d?.url ?? '', 'http://x').searchParams;
    expect(q.get('access_token')).toBe('test-token');
    // DingTalk's 加签, computed here from its documentation: base64(HMAC-SHA256(secret, "timestamp\nsecret")).
    const ts = q.get('timestamp') ?? '';
    expect(q.get('sign')).toBe(
      createHmac('sha256', DINGTALK_SECRET).update(`${ts}\n${DINGTALK_SECRET}`).digest('base64'),
    );
    expect(Math.abs(Number(ts) - Date.now())).toBeLessThan(60_000);
    expect(JSON.parse(d?.body ?? '{}')).toMatchObject({
      msgtype: 'text',
      at: { atMobiles: ['13900000002'] },
    });
    const form = Object.fromEntries(new URLSearchParams(sms.requests[0]?.body ?? ''));
    const { Signature, ...signed } = form;
    expect(Signature).toBe(aliyunSignature(signed, 'test-key-secret'));
    expect(form).toMatchObject({
      Action: 'SendSms',
      PhoneNumbers: '13900000002',
      TemplateCode: 'SMS_100002',
      SignName: 'CareHub',
    });
    expect(JSON.parse(form.TemplateParam ?? '{}')).toMatchObject({ minutes: '3' });

    // The daughter's link: the page (no login), "I am going", the note, and the ladder stops.
    const link = body.ackUrl.replace('https://carehub.example.test', t.httpUrl);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-state="form"');
    expect(html).toContain('我正在前往');
    expect(html).not.toContain('Wang Guifang');
    const going = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.httpUrl },
      body: 'going=1',
    });
    expect(going.status).toBe(200);
    expect(await going.text()).toContain('data-state="going"');
    const rec = t.hub.store.alerts.get(alertId);
    expect(rec?.alert.notes.some((x) => x.texts?.en?.includes('Li Min (daughter) is going'))).toBe(true);
    const answer = await api<{ going: Array<{ contact: { name: string } }> }>(
      t.httpUrl,
      sup,
      `/api/v1/alerts/${alertId}/notifications`,
    );
    expect(answer.body.going.map((g) => g.contact.name)).toEqual(['Li Min (daughter)']);
    // Used: the same link again says so and records nothing more.
    const again = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'going=1',
    });
    expect(await again.text()).toContain('data-state="used"');
    // The neighbour's step (300 s) never comes.
    await advance(600_000);
    expect(smtp.mails.map((m) => m.to[0])).toEqual(['li.min@example.test']);
    expect(hook.requests).toHaveLength(2);
    // Every attempt is in the audit trail.
    const admin = await login(t.httpUrl, 'admin1');
    const audit = await api<{ entries: Array<{ action: string; target: string }> }>(
      t.httpUrl,
      admin,
      '/api/v1/audit?actor=notify&limit=100',
    );
    expect(audit.body.entries.filter((e) => e.action === 'notify.sent' && e.target === alertId)).toHaveLength(
      6,
    );
    expect(
      checkLink(
        Buffer.from('test-link-secret-0123456789abcdefghijklmnop'),
        link.split('/ack/')[1],
        t.hub.clock.now(),
      ).ok,
    ).toBe(true);
  });

  it('a staff acknowledgement before 60 s sends nothing, ever', async () => {
    const alertId = await pressSos();
    await advance(30_000);
    const ack = await api(t.httpUrl, sup, `/api/v1/alerts/${alertId}/ack`, { body: {} });
    expect(ack.status).toBe(200);
    await advance(15 * 60_000);
    expect(smtp.mails).toHaveLength(0);
    expect(hook.requests).toHaveLength(0);
    expect(wecom.requests.length + dingtalk.requests.length + sms.requests.length).toBe(0);
    expect(t.hub.store.notify.byAlert(alertId)).toEqual([]);
    expect(t.hub.core.scheduler.has(`notify:${alertId}:1`)).toBe(false);
  });

  it('an acknowledgement between steps cancels what is still pending: the family was told, the grid worker never is', async () => {
    smtp.mails.length = 0;
    const alertId = await pressSos();
    await advance(60_000);
    await expect.poll(() => smtp.mails.length).toBe(1);
    await api(t.httpUrl, sup, `/api/v1/alerts/${alertId}/ack`, { body: {} });
    await advance(600_000);
    expect(hooksFor('grid_worker')).toHaveLength(0);
    const rows = t.hub.store.notify.byAlert(alertId);
    expect(rows.map((r) => `${r.step}:${r.channel}:${r.status}`).sort()).toEqual([
      '1:email:sent',
      '1:webhook:sent',
    ]);
  });
});
