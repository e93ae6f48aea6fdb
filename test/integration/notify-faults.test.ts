import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SENDS_PER_MINUTE } from '../../hub/src/http/routes/notify-routes.js';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { notifyRaw, TestReceiver, TestSmtp } from '../helpers/notify-servers.js';

/**
 * Delivery you can trust when the other end misbehaves: an SMTP server down for a while, a webhook
 * answering 500 then 200, a robot answering its rate-limit error, a receiver refusing for good, a
 * contact no channel reaches. Nothing lost, nothing doubled, failures on the alert for duty staff.
 * Real SMTP server on loopback; local stand-ins for the webhook and the WeCom robot.
 */
const smtp = new TestSmtp();
const hook = new TestReceiver({ status: 200, body: '{}' });
const wecom = new TestReceiver({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' });
let t: TestHub | undefined;
let device: MqttClient | undefined;
let sup: string;

beforeAll(async () => {
  await Promise.all([smtp.start(), hook.start(), wecom.start()]);
});
afterAll(async () => {
  await Promise.all([smtp.stop(), hook.stop(), wecom.stop()]);
});
afterEach(async () => {
  await device?.endAsync();
  await t?.stop();
  t = undefined;
  smtp.mails.length = 0;
  hook.requests.length = 0;
  wecom.requests.length = 0;
  if (!smtp.port) await smtp.start();
});

async function start(tweak: (raw: Record<string, unknown>) => void = () => {}): Promise<TestHub> {
  const raw = notifyRaw(demoRaw(), { smtpPort: smtp.port, webhook: `${hook.url}/hook`, wecom: wecom.url });
  tweak(raw);
  t = await startHub({ raw, env: { CAREHUB_CLOCK: 'manual' }, manualClockStart: Date.now() });
  sup = await login(t.httpUrl, 'supervisor1');
  device = await connectDevice(t.mqttUrl, 'h1-sos');
  return t;
}

async function pressSos(hub: TestHub): Promise<string> {
  await device?.publishAsync('carehub/v1/devices/h1-sos/events', JSON.stringify({ type: 'sos.pressed' }), {
    qos: 1,
  });
  const id = hub.hub.store.alerts.findOpen('sos:h1')?.alert.id;
  if (!id) throw new Error('no SOS alert');
  return id;
}

async function advance(hub: TestHub, ms: number): Promise<void> {
  const r = await api(hub.httpUrl, sup, '/api/v1/clock/advance', { body: { ms } });
  expect(r.status).toBe(200);
  for (let i = 0; i < 3; i++) {
    await new Promise((res) => setTimeout(res, 30));
    await hub.hub.notifier?.idle();
  }
}

const row = (hub: TestHub, id: string) => hub.hub.store.notify.get(id);
const notes = (hub: TestHub, alertId: string) =>
  hub.hub.store.alerts.get(alertId)?.alert.notes.map((n) => n.texts?.en ?? n.text) ?? [];

describe('notification delivery under faults', () => {
  it('the SMTP server down for a while: retried with backoff, delivered once when it is back', async () => {
    const hub = await start();
    await smtp.stop();
    const alertId = await pressSos(hub);
    await advance(hub, 60_000);
    const id = `${alertId}.1.0.email`;
    await expect.poll(() => row(hub, id)?.attempts).toBe(1);
    expect(row(hub, id)).toMatchObject({
      status: 'pending',
      lastError: expect.stringMatching(/ECONNREFUSED|unreachable/),
    });
    // Backoff with jitter: the first retry is 2.5–5 s later, the second 5–10 s.
    const first = row(hub, id)?.nextAt ?? 0;
    expect(first - hub.hub.clock.now()).toBeGreaterThanOrEqual(2500);
    expect(first - hub.hub.clock.now()).toBeLessThanOrEqual(5000);
    await advance(hub, 5_000);
    await expect.poll(() => row(hub, id)?.attempts).toBe(2);
    await smtp.start();
    await advance(hub, 10_000);
    await expect.poll(() => row(hub, id)?.status).toBe('sent');
    expect(smtp.mails.filter((m) => m.header('Message-ID') === `<${id}@carehub.invalid>`)).toHaveLength(1);
    await advance(hub, 10 * 60_000);
    expect(smtp.mails.filter((m) => m.to.includes('li.min@example.test'))).toHaveLength(1);
    const seen = await api<{ attempts: Array<{ delivery: string; result: string }> }>(
      hub.httpUrl,
      sup,
      `/api/v1/alerts/${alertId}/notifications`,
    );
    expect(seen.body.attempts.filter((a) => a.delivery === id).map((a) => a.result)).toEqual([
      'retry',
      'retry',
      'sent',
    ]);
    expect(notes(hub, alertId)).toContain('Li Min (daughter) was told by email.');
  });

  it('the webhook answers 500, then 200: one retry with the same webhook-id, accepted once', async () => {
    const hub = await start();
    hook.answer({ status: 500, body: 'oops' });
    const alertId = await pressSos(hub);
    await advance(hub, 60_000);
    const id = `${alertId}.1.0.webhook`;
    await expect.poll(() => row(hub, id)?.attempts).toBe(1);
    expect(row(hub, id)?.lastError).toBe('HTTP 500');
    await advance(hub, 5_000);
    await expect.poll(() => row(hub, id)?.status).toBe('sent');
    expect(hook.requests.map((r) => [r.headers['webhook-id'], r.status])).toEqual([
      [id, 500],
      [id, 200],
    ]);
    await advance(hub, 60_000);
    expect(hook.requests.filter((r) => r.headers['webhook-id'] === id)).toHaveLength(2);
  });

  it("a robot's rate-limit error (WeCom errcode 45009) waits a minute; a step's contacts go in one message", async () => {
    const hub = await start((raw) => {
      const h1 = (raw.homes as Array<{ id: string; contacts: unknown[] }>).find((h) => h.id === 'h1');
      h1?.contacts.push({
        name: 'Sun Li (grid worker)',
        relation: 'grid_worker',
        phone: '+86 135 0000 0005',
        notify: ['wecom'],
      });
    });
    wecom.answer({ status: 200, body: '{"errcode":45009,"errmsg":"api freq out of limit"}' });
    const alertId = await pressSos(hub);
    await advance(hub, 180_000);
    await expect.poll(() => wecom.requests.length).toBe(1);
    const first = JSON.parse(wecom.requests[0]?.body ?? '{}') as {
      text: { mentioned_mobile_list: string[] };
    };
    expect(first.text.mentioned_mobile_list).toEqual(['13900000002', '13500000005']);
    // each contact's own link in the one message
    expect(JSON.stringify(first)).toContain(`${alertId}.1.`);
    expect(JSON.stringify(first)).toContain(`${alertId}.3.`);
    const ids = [`${alertId}.2.1.wecom`, `${alertId}.2.3.wecom`];
    await expect.poll(() => ids.map((id) => row(hub, id)?.attempts)).toEqual([1, 1]);
    expect(row(hub, ids[0] as string)?.lastError).toMatch(/errcode 45009/);
    await advance(hub, 59_000);
    expect(wecom.requests).toHaveLength(1);
    await advance(hub, 1_000);
    // The robot's bucket was emptied by its error: the next message waits for a token (3 s at 20 a minute).
    await expect
      .poll(() => ids.map((id) => row(hub, id)?.status), { timeout: 10_000 })
      .toEqual(['sent', 'sent']);
    expect(wecom.requests).toHaveLength(2);
  });

  it('a receiver that refuses for good (HTTP 410) fails at once, and duty staff see it on the alert', async () => {
    const hub = await start();
    hook.answer({ status: 410, body: 'gone' });
    const alertId = await pressSos(hub);
    await advance(hub, 60_000);
    const id = `${alertId}.1.0.webhook`;
    await expect.poll(() => row(hub, id)?.status).toBe('failed');
    expect(row(hub, id)?.attempts).toBe(1);
    expect(notes(hub, alertId)).toContain('Could not reach Li Min (daughter) by webhook: HTTP 410');
  });

  it('attempts run out (maxAttempts): the row fails and the alert says so', async () => {
    const hub = await start((raw) => {
      (raw.notifications as Record<string, unknown>).maxAttempts = 2;
    });
    await smtp.stop();
    const alertId = await pressSos(hub);
    await advance(hub, 60_000);
    await advance(hub, 10_000);
    const id = `${alertId}.1.0.email`;
    await expect.poll(() => row(hub, id)?.status).toBe('failed');
    expect(row(hub, id)?.attempts).toBe(2);
    expect(notes(hub, alertId).some((n) => n.startsWith('Could not reach Li Min (daughter) by email'))).toBe(
      true,
    );
  });

  it('a contact no channel can reach: a note on the alert at their step (and nothing sent)', async () => {
    const hub = await start((raw) => {
      const h1 = (raw.homes as Array<{ id: string; contacts: Array<Record<string, unknown>> }>).find(
        (h) => h.id === 'h1',
      );
      const daughter = h1?.contacts[0];
      if (daughter) daughter.notify = ['sms'];
    });
    const alertId = await pressSos(hub);
    await advance(hub, 60_000);
    expect(notes(hub, alertId)).toContain(
      'Li Min (daughter) cannot be notified: SMS: no sms settings. Call them.',
    );
    expect(hub.hub.store.notify.byAlert(alertId)).toEqual([]);
    expect(smtp.mails).toHaveLength(0);
  });
});

describe('test messages', () => {
  it(`at most ${TEST_SENDS_PER_MINUTE} a minute from one address, then a coded 429 (they go past the robots' own limits)`, async () => {
    const hub = await start();
    const send = () =>
      api<{ ok?: boolean; error?: { code: string } }>(hub.httpUrl, sup, '/api/v1/notifications/test', {
        body: { homeId: 'h1', contact: 0, channel: 'webhook' },
      });
    for (let i = 0; i < TEST_SENDS_PER_MINUTE; i++) expect((await send()).status).toBe(200);
    const over = await send();
    expect(over.status).toBe(429);
    expect(over.body.error?.code).toBe('HUB_ERR_TOO_MANY_ATTEMPTS');
    expect(hook.requests.length).toBe(TEST_SENDS_PER_MINUTE);
  });
});
