import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../helpers/hub.js';
import { eventually, launchBrowser, loginThroughForm, newPage, screenshot } from './helpers/browser.js';
import { type Device, device } from './helpers/device.js';

describe('staff console: login, live queue, acknowledge and resolve (real hub, real Chromium)', () => {
  let browser: Browser;
  let t: TestHub;
  let context: BrowserContext;
  let page: Page;
  let devices: Device[] = [];
  /** A real MQTT device client, ended after the test whatever happens (an open client holds the broker). */
  const dev = async (id: string) => {
    const d = await device(t.mqttUrl, id);
    devices.push(d);
    return d;
  };

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    t = await startHub();
    ({ context, page } = await newPage(browser));
  });
  afterEach(async () => {
    await Promise.all(devices.map((d) => d.end()));
    devices = [];
    await context?.close();
    await t?.stop();
  });

  it('logs in with the plain form (Enter submits) and shows the live queue', async () => {
    await page.goto(`${t.httpUrl}/`);
    await page.locator('input[type=password]').waitFor();
    await eventually(() => page.locator('input[type=password]').count()).toBe(1);
    await screenshot(page, 'login-zh-CN');
    await loginThroughForm(page, t.httpUrl, 'duty1');
    await eventually(() => page.locator('.who').textContent()).toContain('Liu Yang');
    await eventually(() => page.locator('#queue-title').textContent()).toBe('告警队列');
    await eventually(() => page.locator('.empty').textContent()).toContain('没有未处理的告警');
  });

  it('refuses a wrong password in plain words', async () => {
    await page.goto(`${t.httpUrl}/`);
    await page.locator('#login-username').fill('duty1');
    await page.locator('#login-password').fill('not-the-password');
    await page.locator('#login-password').press('Enter');
    await eventually(() => page.getByRole('alert').textContent()).toContain('用户名或密码不正确');
  });

  it('shows an SOS published by a real MQTT client within 1 s', async () => {
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const sos = await dev('h1-sos');
    const card = page.locator('.alert-card[data-kind=sos]');
    const t0 = Date.now();
    await sos.publish({ type: 'sos.pressed', id: 'e2e-sos-1' });
    await card.waitFor({ timeout: 1000 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    await eventually(() => card.locator('.alert-title').textContent()).toContain('紧急求救');
    await eventually(() => card.locator('.sev-critical').textContent()).toBe('紧急');
  });

  it('acknowledges and resolves from the page, and both reach the device', async () => {
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const sos = await dev('h1-sos');
    await sos.publish({ type: 'sos.pressed', id: 'e2e-ack-1' });
    const card = page.locator('.alert-card[data-kind=sos]');
    await card.waitFor({ timeout: 2000 });
    const alertId = await card.getAttribute('data-alert-id');

    // acknowledge from the queue
    await card.getByRole('button', { name: '确认接警' }).click();
    await page.locator('.alert-card[data-kind=sos][data-status=acknowledged]').waitFor({ timeout: 2000 });
    await expect
      .poll(() => sos.commands.find((c) => c.type === 'alert.acknowledged'), { timeout: 3000 })
      .toMatchObject({ alertId, by: '刘洋 (Liu Yang)' });

    // resolve from the detail view, with an outcome and a note
    await card.getByRole('link', { name: '详情' }).click();
    await page.locator('.detail-head[data-status=acknowledged]').waitFor();
    await page.getByLabel('误按').check();
    await page.getByLabel('结案说明').fill('Resident pressed by accident; called back, all fine.');
    await page.getByRole('button', { name: '结案' }).click();
    await page.locator('.detail-head[data-status=resolved]').waitFor({ timeout: 2000 });
    await expect
      .poll(() => sos.commands.find((c) => c.type === 'alert.resolved'), { timeout: 3000 })
      .toMatchObject({ alertId });
    // the timeline shows the outcome and the note
    await expect
      .poll(() => page.locator('.timeline').textContent())
      .toContain('Resident pressed by accident');
    // and the queue is empty again
    await page.getByRole('link', { name: '返回告警队列' }).first().click();
    await page.locator('.empty').waitFor();
  });

  it('shows a hub refusal in plain words (acknowledging an alert someone else resolved)', async () => {
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const sos = await dev('h2-sos');
    await sos.publish({ type: 'sos.pressed', id: 'e2e-conflict-1' });
    const card = page.locator('.alert-card[data-kind=sos]');
    await card.waitFor({ timeout: 2000 });
    const alertId = await card.getAttribute('data-alert-id');
    await card.getByRole('link', { name: '详情' }).click();
    await page.locator('.detail-head').waitFor();
    // someone else resolves it over HTTP; the page's acknowledge then meets the hub's refusal
    const { login, api } = await import('../helpers/hub.js');
    const token = await login(t.httpUrl, 'supervisor1');
    await page.route('**/api/v1/alerts/*/ack', async (route) => {
      await api(t.httpUrl, token, `/api/v1/alerts/${alertId}/resolve`, { body: { outcome: 'test' } });
      await route.continue();
    });
    // the detail's one Acknowledge button sits at the alert's head (issue 22)
    await page.locator('.detail-head .ack-box').getByRole('button', { name: '确认接警' }).click();
    await eventually(() => page.locator('.detail-head .ack-box [role=alert]').textContent()).toContain(
      '该告警已经结案',
    );
    // and the open detail view learns of the resolution from the feed
    await page.locator('.detail-head[data-status=resolved]').waitFor({ timeout: 2000 });
  });

  it('sorts fire above SOS above lower severities and groups one home’s alerts into an incident', async () => {
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const sos = await dev('h1-sos');
    const smoke = await dev('h1-smoke');
    const sos2 = await dev('h2-sos');
    await sos2.publish({ type: 'sos.pressed', id: 'order-1' });
    await page.locator('.alert-card').first().waitFor();
    await sos.publish({ type: 'sos.pressed', id: 'order-2' });
    await sos.publish({ type: 'sos.pressed', id: 'order-3' });
    await sos.publish({ type: 'sos.cancelled', id: 'order-4' });
    await smoke.publish({ type: 'smoke.detected', id: 'order-5' });
    await eventually(() => page.locator('.alert-card').count(), { timeout: 3000 }).toBe(3);
    await page.locator('.badge-cancelled').waitFor({ timeout: 2000 });
    // fire first (the h1 incident holds smoke then SOS), then the older h2 SOS incident
    expect(
      await page.locator('.alert-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))),
    ).toEqual(['smoke', 'sos', 'sos']);
    const group = page.locator('.incident-grouped');
    await eventually(() => group.locator('.alert-card').count()).toBe(2);
    await eventually(() => group.locator('.incident-head').textContent()).toContain('共 2 条告警');
    const h1sos = group.locator('.alert-card[data-kind=sos]');
    await eventually(() => h1sos.locator('.badge-repeat').textContent()).toContain('2');
    await eventually(() => h1sos.locator('.badge-cancelled').textContent()).toContain('老人已取消');
    // ages tick
    const age1 = await page.locator('.alert-card .age').first().textContent();
    await page.waitForTimeout(2100);
    expect(await page.locator('.alert-card .age').first().textContent()).not.toBe(age1);
  });

  it('works from the keyboard alone, with a visible focus ring', async () => {
    await page.goto(`${t.httpUrl}/`);
    await page.locator('#login-username').focus();
    await page.keyboard.type('duty1');
    await page.keyboard.press('Tab');
    await page.keyboard.type('duty1-demo');
    await page.keyboard.press('Enter');
    await page.locator('.conn-ok').waitFor();
    const sos = await dev('h2-sos');
    await sos.publish({ type: 'sos.pressed', id: 'keyboard-1' });
    await page.locator('.alert-card').waitFor({ timeout: 2000 });
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate('document.activeElement?.textContent === "确认接警"');
    }
    expect(found).toBe(true);
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await page.locator('.alert-card[data-status=acknowledged]').waitFor({ timeout: 2000 });
    await expect
      .poll(() => sos.commands.some((c) => c.type === 'alert.acknowledged'), { timeout: 3000 })
      .toBe(true);
  });

  it('switches language between zh-CN and en, alert titles included, and remembers the choice', async () => {
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const sos = await dev('h1-sos');
    await sos.publish({ type: 'sos.pressed', id: 'lang-1' });
    const title = page.locator('.alert-card .alert-title');
    await title.waitFor({ timeout: 2000 });
    await eventually(() => title.textContent()).toContain('紧急求救');
    await page.locator('.header select').selectOption('en');
    await page.locator('html[lang="en"]').waitFor();
    await eventually(() => page.locator('#queue-title').textContent()).toBe('Alert queue');
    await eventually(() => title.textContent()).toContain('SOS pressed at');
    await page.reload();
    await page.locator('.alert-card').waitFor();
    await eventually(() => page.locator('#queue-title').textContent()).toBe('Alert queue');
    await page.locator('.header select').selectOption('zh-CN');
    await eventually(() => page.locator('#queue-title').textContent()).toBe('告警队列');
  });

  it('takes admin1 straight to English (the staff member’s own locale)', async () => {
    await loginThroughForm(page, t.httpUrl, 'admin1');
    await eventually(() => page.locator('#queue-title').textContent()).toBe('Alert queue');
  });

  it('never shows duty1 an alert of h3 (another grid)', async () => {
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const h3 = await dev('h3-sos');
    const h1 = await dev('h1-smoke');
    await h3.publish({ type: 'sos.pressed', id: 'scope-1' });
    // a later in-scope alert proves the page's feed is flowing, so the absence of h3 means something
    await h1.publish({ type: 'smoke.detected', id: 'scope-2' });
    await page.locator('.alert-card[data-kind=smoke]').waitFor({ timeout: 2000 });
    await eventually(() => page.locator('.alert-card').count()).toBe(1);
    expect(await page.locator('body').textContent()).not.toContain('8号301');
    // nor on the homes page
    await page.getByRole('link', { name: '住户' }).click();
    await page.locator('.home-card').first().waitFor();
    expect(
      await page.locator('.home-card').evaluateAll((els) => els.map((e) => e.getAttribute('data-home-id'))),
    ).toEqual(['h1', 'h2']);
    // and the hub refuses h3's details outright
    await page.goto(`${t.httpUrl}/#/homes/h3`);
    expect(await page.locator('body').textContent()).not.toContain('8号301');
  });
});
