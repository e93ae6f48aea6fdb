import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, demoRaw, login, startHub, type TestHub } from '../helpers/hub.js';
import { eventually, launchBrowser, loginThroughForm, newPage, screenshot } from './helpers/browser.js';
import { device } from './helpers/device.js';

/**
 * The console's part of check-ins (issue 21), in Chromium: the home card counts questions, answers
 * and misses and shows what the hub learned; staff override it there; the reports view lists homes
 * with misses first. On the drill clock: h2 (door-only) is asked twice, answers once, misses once.
 */
describe('staff console: check-ins on the home page and in the reports', () => {
  let browser: Browser;
  let t: TestHub;

  beforeAll(async () => {
    browser = await launchBrowser();
    // The drill started two days ago; the SOS button's supervision is long enough to stay reachable.
    t = await startHub({
      raw: {
        ...demoRaw(),
        clock: 'manual',
        rules: { deviceOffline: { supervisionHours: { sos_button: 72 } } },
      },
      manualClockStart: Date.now() - 2 * 24 * 3600_000,
    });
    const sup = await login(t.httpUrl, 'supervisor1');
    const advance = (ms: number) => api(t.httpUrl, sup, '/api/v1/clock/advance', { body: { ms } });
    const sos = await device(t.mqttUrl, 'h2-sos');
    const door = await device(t.mqttUrl, 'h2-door');
    await door.publish({ type: 'door.closed' });
    // asked 23 h after the door (24 h less the waits of 3 requests); she answers the first
    await advance(23 * 3600_000 + 60_000);
    for (let i = 0; ; i++) {
      const { body } = await api<{ home: { checkins: { pending: unknown } } }>(
        t.httpUrl,
        sup,
        '/api/v1/homes/h2',
      );
      if (body.home.checkins.pending) break;
      if (i > 50) throw new Error('h2 was not asked');
      await new Promise((r) => setTimeout(r, 100));
    }
    await sos.publish({ type: 'checkin' });
    // asked again 23 h later, then at 23 h 20 and 23 h 40; no answer: inactivity
    await advance(24 * 3600_000);
    await sos.end();
    await door.end();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('the home card counts the questions, shows the rhythm, and takes an override', async () => {
    const { context, page } = await newPage(browser);
    await loginThroughForm(page, t.httpUrl, 'supervisor1');
    await page.locator('.header select').selectOption('en');
    await page.goto(`${t.httpUrl}/#/homes/h2`);
    const h2 = page.locator('.home-card[data-home-id=h2]');
    await h2.waitFor();
    const summary = h2.locator('[data-testid=checkin-summary]');
    await eventually(() => summary.textContent()).toContain('asked 4 · answered 1 · missed 3');
    await eventually(() => summary.locator('.health.bad').count()).toBe(1);
    expect(await summary.textContent()).toContain('learning the rhythm (');
    await h2.locator('details.rhythm summary').click();
    await eventually(() => h2.locator('.rhythm-hours tbody tr').count()).toBe(11);
    expect(await h2.locator('.rhythm-hours').textContent()).toContain('23 h');
    await eventually(() => h2.locator('.checkin-recent li').count()).toBe(4);
    expect(await h2.locator('.checkin-recent li').first().textContent()).toContain('no answer');
    const askAfter = h2.getByLabel('Ask after (hours; empty: what was learned)');
    await askAfter.fill('6');
    // Enter submits the form wherever the Save button has moved to (the card reflows as fonts load).
    await askAfter.press('Enter');
    await eventually(() => h2.locator('.rhythm-detail').textContent()).toContain(
      'asks after 6 h (set by staff)',
    );
    await eventually(() => h2.locator('.rhythm-hours').textContent()).toContain('6 h');
    await screenshot(page, 'home-checkins-en');
    await context.close();
  });

  it('the reports view lists check-ins per home, misses first', async () => {
    const { context, page } = await newPage(browser);
    await loginThroughForm(page, t.httpUrl, 'supervisor1');
    await page.locator('.header select').selectOption('en');
    await page.goto(`${t.httpUrl}/#/reports`);
    // the drill clock is two days behind: the last 7 days cover it
    await page.getByRole('button', { name: 'Last 7 days' }).click();
    const table = page.locator('[data-testid=checkin-report]');
    await eventually(() => table.locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    const row = table.locator('tbody tr[data-home-id=h2]');
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 5)).toEqual(['4', '1', '0', '3', '0']);
    expect(cells[5]).toBe('25%');
    // homes with the most misses first (h1 and h3 are quiet too: nobody lives in them in this drill)
    const missed = await table.locator('tbody tr td:nth-child(5)').allTextContents();
    expect(missed.map(Number)).toEqual([...missed.map(Number)].sort((a, b) => b - a));
    await context.close();
  });
});
