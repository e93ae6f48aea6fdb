import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connectDevice, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { notifyRaw, TestReceiver, TestSmtp } from '../helpers/notify-servers.js';
import { eventually, launchBrowser, loginThroughForm, newPage, screenshot } from './helpers/browser.js';

/**
 * Issue 20 in the staff console (Chromium): an unanswered SOS reaches the daughter at 60 s; the
 * alert detail shows the deliveries; her "I am going" shows on the duty console at once, without a
 * reload; a supervisor sends a test message to a contact from the homes view. A real SMTP server on
 * loopback and a local webhook receiver stand at the other end.
 */
const smtp = new TestSmtp();
const hook = new TestReceiver({ status: 200, body: '{}' });
let browser: Browser;
let t: TestHub;
let context: BrowserContext;
let page: Page;
let sup: string;
let device: MqttClient;

beforeAll(async () => {
  await Promise.all([smtp.start(), hook.start()]);
  browser = await launchBrowser();
  const raw = notifyRaw(demoRaw(), { smtpPort: smtp.port, webhook: `${hook.url}/hook` });
  t = await startHub({ raw, env: { CAREHUB_CLOCK: 'manual' }, manualClockStart: Date.now() });
  sup = await login(t.httpUrl, 'supervisor1');
  device = await connectDevice(t.mqttUrl, 'h1-sos');
  ({ context, page } = await newPage(browser));
  await loginThroughForm(page, t.httpUrl, 'duty1');
}, 60_000);
afterAll(async () => {
  await device?.endAsync();
  await context?.close();
  await browser?.close();
  await t?.stop();
  await Promise.all([smtp.stop(), hook.stop()]);
});

describe('notifications in the staff console', () => {
  it('shows who was told, and who is going the moment the family member confirms', async () => {
    await device.publishAsync('carehub/v1/devices/h1-sos/events', JSON.stringify({ type: 'sos.pressed' }), {
      qos: 1,
    });
    const alertId = t.hub.store.alerts.findOpen('sos:h1')?.alert.id ?? '';
    await page.goto(`${t.httpUrl}/#/alerts/${alertId}`);
    await page.locator('.notify-panel').waitFor();
    await eventually(() => page.locator('.notify-panel').textContent()).toContain('尚未通知任何人');
    await api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms: 60_000 } });
    await expect.poll(() => smtp.mails.length, { timeout: 5000 }).toBe(1);
    // delivered by email and webhook, shown on the detail (the feed brings the notes that say so)
    await eventually(() => page.locator('.notify-table tr[data-status=sent]').count()).toBe(2);
    await eventually(() => page.locator('.timeline').textContent()).toContain(
      '已通过邮件通知 Li Min (daughter)',
    );
    // the daughter taps her link (the ackUrl in her webhook) and confirms
    const body = JSON.parse(hook.requests[0]?.body ?? '{}') as { ackUrl: string };
    const link = body.ackUrl.replace('https://carehub.example.test', t.httpUrl);
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const mobile = await phone.newPage();
    await mobile.goto(link);
    await mobile.getByRole('button', { name: '我正在前往' }).click();
    await mobile.locator('body[data-state=going]').waitFor();
    await screenshot(mobile, 'ack-page-going-zh-CN');
    await phone.close();
    // the duty console shows it without a reload
    await eventually(() => page.locator('.notify-going').textContent(), { timeout: 5000 }).toContain(
      'Li Min (daughter) 正在前往',
    );
    await eventually(() => page.locator('.timeline').textContent()).toContain('Li Min (daughter) 正在前往');
    await screenshot(page, 'notify-going-zh-CN');
  });

  it('a supervisor sends a test email to a contact from the homes view; duty staff have no such button', async () => {
    expect(await page.locator('.test-send').count()).toBe(0);
    await page.goto(`${t.httpUrl}/#/homes`);
    await page.locator('.home-card').first().waitFor();
    expect(await page.locator('.test-send').count()).toBe(0);
    const { context: supContext, page: supPage } = await newPage(browser);
    try {
      await loginThroughForm(supPage, t.httpUrl, 'supervisor1');
      await supPage.goto(`${t.httpUrl}/#/homes/h1`);
      const card = supPage.locator('[data-home-id=h1]');
      await card.getByRole('button', { name: '联系人：测试消息' }).click();
      const before = smtp.mails.length;
      await card.locator('li[data-contact="0"] [data-channel=email] button').click();
      await eventually(() =>
        card.locator('li[data-contact="0"] [data-channel=email] .test-ok').textContent(),
      ).toBe('已发送');
      await expect.poll(() => smtp.mails.length).toBe(before + 1);
      expect(smtp.mails.at(-1)?.to).toEqual(['li.min@example.test']);
      expect(smtp.mails.at(-1)?.header('X-CareHub-Delivery')).toMatch(/^test-[0-9a-f]{16}$/);
      // the neighbour has no webhook: a channel she does not use has no button
      expect(await card.locator('li[data-contact="2"] [data-channel=webhook]').count()).toBe(0);
      const admin = await login(t.httpUrl, 'admin1');
      const audit = await api<{ entries: Array<{ actor: string; target: string }> }>(
        t.httpUrl,
        admin,
        '/api/v1/audit?action=notify.test',
      );
      expect(audit.body.entries).toEqual([expect.objectContaining({ actor: 'supervisor1', target: 'h1' })]);
    } finally {
      await supContext.close();
    }
  });
});
