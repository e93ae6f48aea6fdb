import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, login, startHub, type TestHub } from '../helpers/hub.js';
import {
  DESKTOP,
  eventually,
  launchBrowser,
  loginThroughForm,
  newPage,
  screenshot,
  TABLET,
} from './helpers/browser.js';
import { playScene, type Scene } from './helpers/scene.js';

const LANGS = ['zh-CN', 'en'] as const;

async function setLanguage(page: Page, lang: string): Promise<void> {
  await page.locator('.header select').selectOption(lang);
  await page.locator(`html[lang="${lang}"]`).waitFor();
}

describe('staff console views on a drill-clock shift: queue, alert detail, homes', () => {
  let browser: Browser;
  let t: TestHub;
  let scene: Scene;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await launchBrowser();
    // the drill clock starts 12 minutes ago, so the shift's alerts have real-looking ages
    t = await startHub({ env: { CAREHUB_CLOCK: 'manual' }, manualClockStart: Date.now() - 12 * 60_000 });
    scene = await playScene(t);
    ({ context, page } = await newPage(browser));
    await loginThroughForm(page, t.httpUrl, 'duty1');
  }, 60_000);
  afterAll(async () => {
    await scene?.end();
    await context?.close();
    await browser?.close();
    await t?.stop();
  });

  it('shows the queue: fire first, incident grouping, escalation, repeats, resident cancel, sound', async () => {
    await eventually(() => page.locator('.alert-card').count(), { timeout: 3000 }).toBeGreaterThanOrEqual(4);
    const kinds = await page
      .locator('.alert-card')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds[0]).toBe('smoke');
    expect(kinds.indexOf('battery_low')).toBe(kinds.length - 1);
    const h1 = page.locator('.incident-grouped', { has: page.locator('[data-kind=smoke]') });
    await eventually(() => h1.locator('[data-kind=sos] .badge-repeat').textContent()).toContain('2');
    await eventually(() => page.locator('.badge-escalated').first().textContent()).toMatch(/第 [12] 级/);
    await eventually(() => page.locator('.badge-cancelled').count()).toBe(1);
    // the alarm plays the fire pattern while a fire is unacknowledged
    await eventually(() => page.locator('body').getAttribute('data-alarm')).toBe('smoke');
    for (const lang of LANGS) {
      await setLanguage(page, lang);
      await screenshot(page, `queue-${lang}`);
    }
    await page.setViewportSize(TABLET);
    await setLanguage(page, 'zh-CN');
    await screenshot(page, 'queue-tablet-zh-CN');
    await page.setViewportSize(DESKTOP);
  });

  it('mutes the alarm through the hub (audited) and a new critical alert sounds again', async () => {
    await page.locator('.header').getByRole('button', { name: '静音' }).click();
    await eventually(() => page.locator('body').getAttribute('data-alarm')).toBe('off');
    await eventually(() => page.locator('.banners [role=alert]').count()).toBe(0);
    const admin = await login(t.httpUrl, 'admin1');
    await expect
      .poll(async () => {
        const res = await api<{ entries: Array<{ actor: string; action: string }> }>(
          t.httpUrl,
          admin,
          '/api/v1/audit?action=console.mute',
        );
        return res.body.entries.some((e) => e.actor === 'duty1');
      })
      .toBe(true);
    await scene.devices.get('h2-smoke')?.publish({ type: 'smoke.detected', id: 'views-h2-smoke' });
    await eventually(() => page.locator('body').getAttribute('data-alarm'), { timeout: 3000 }).toBe('smoke');
    await eventually(() => page.locator('.header [aria-pressed=false]').count()).toBe(1);
  });

  it('shows the alert detail: resident, contacts with tel: links, devices, timeline; note and assign', async () => {
    const card = page.locator('.alert-card[data-kind=sos]', { hasText: '3号101' });
    await card.getByRole('link', { name: '详情' }).click();
    const detail = page.locator('.detail');
    await detail.locator('.resident-name').waitFor();
    await eventually(() => detail.locator('.resident-name').textContent()).toContain('王桂芳');
    await eventually(() => detail.locator('.resident').textContent()).toContain('88');
    await eventually(() => detail.locator('.resident-notes').textContent()).toContain('Mild dementia');
    await eventually(() => detail.locator('.resident .badge-risk').count()).toBe(1);
    await eventually(() => detail.locator('a[href="tel:+8613800000001"]').count()).toBe(1);
    await expect
      .poll(() => detail.locator('table.devices [data-device-id=h1-smoke]').textContent())
      .toContain('91%');
    await eventually(() => detail.locator('.timeline').textContent()).toContain('按下求救');

    await detail.getByLabel('备注').fill('已电话联系老人，女儿正在赶去。');
    await detail.getByRole('button', { name: '添加备注' }).click();
    await eventually(() => detail.locator('.timeline').textContent()).toContain('女儿正在赶去');
    await detail.getByLabel('指派给').selectOption('supervisor1');
    await detail.getByRole('button', { name: '指派', exact: true }).click();
    await expect
      .poll(() => detail.locator('.detail-head .badge-assigned').textContent())
      .toContain('Zhou Hong');

    // every control is a touch target of at least 44 px (inline text links excepted)
    const small =
      await page.evaluate(`[...document.querySelectorAll('button, .btn, select, textarea, input:not([type=radio]), .nav a, label.radio')]
      .map((e) => [e.textContent.trim() || e.id || e.tagName, e.getBoundingClientRect().height])
      .filter(([, h]) => h < 44)`);
    expect(small).toEqual([]);

    for (const lang of LANGS) {
      await setLanguage(page, lang);
      await screenshot(page, `detail-${lang}`, true);
    }
    await setLanguage(page, 'zh-CN');
  });

  it('shows every home in scope with device health, and sets a home’s mode', async () => {
    await page.getByRole('link', { name: '住户' }).click();
    const h2 = page.locator('.home-card[data-home-id=h2]');
    await h2.waitFor();
    await eventually(() => page.locator('.home-card').count()).toBe(2);
    await eventually(() => h2.locator('[data-device-id=h2-door]').textContent()).toContain('12%');
    await eventually(() => h2.locator('[data-device-id=h2-door] .health.bad').count()).toBe(1);
    await h2.getByLabel('模式').selectOption('away');
    await h2.getByRole('button', { name: '设置模式' }).click();
    await eventually(() => h2.locator('.home-head .badge').first().textContent()).toContain('外出');
    for (const lang of LANGS) {
      await setLanguage(page, lang);
      await screenshot(page, `homes-${lang}`);
    }
    await setLanguage(page, 'zh-CN');
  });
});

describe('staff console reports on the real clock', () => {
  let browser: Browser;
  let t: TestHub;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await startHub();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('draws the response-time report: histogram, shares within 60 s and 180 s, by kind and by staff', async () => {
    const { device } = await import('./helpers/device.js');
    const duty = await login(t.httpUrl, 'duty1');
    const sup = await login(t.httpUrl, 'supervisor1');
    const ids: string[] = [];
    const raise = async (id: string, type: string, eventId: string) => {
      const d = await device(t.mqttUrl, id);
      await d.publish({ type, id: eventId });
      await d.end();
      for (let i = 0; i < 50; i++) {
        const list = await api<{ alerts: Array<{ id: string; deviceId: string }> }>(
          t.httpUrl,
          sup,
          '/api/v1/alerts?status=open',
        );
        const found = list.body.alerts.find((a) => a.deviceId === id && !ids.includes(a.id));
        if (found) {
          ids.push(found.id);
          return found.id;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no alert from ${id}`);
    };
    const a1 = await raise('h1-sos', 'sos.pressed', 'rep-1');
    const a2 = await raise('h2-sos', 'sos.pressed', 'rep-2');
    const a3 = await raise('h1-smoke', 'smoke.detected', 'rep-3');
    const a4 = await raise('h3-sos', 'sos.pressed', 'rep-4');
    await api(t.httpUrl, duty, `/api/v1/alerts/${a1}/ack`, { body: {} });
    await new Promise((r) => setTimeout(r, 1500));
    await api(t.httpUrl, sup, `/api/v1/alerts/${a3}/ack`, { body: {} });
    await new Promise((r) => setTimeout(r, 10_500));
    await api(t.httpUrl, duty, `/api/v1/alerts/${a2}/ack`, { body: {} });
    await api(t.httpUrl, sup, `/api/v1/alerts/${a4}/ack`, { body: {} });
    for (const [id, outcome, who] of [
      [a1, 'accidental', duty],
      [a2, 'genuine', duty],
      [a3, 'false_alarm', sup],
      [a4, 'genuine', sup],
    ] as const) {
      await api(t.httpUrl, who, `/api/v1/alerts/${id}/resolve`, { body: { outcome } });
    }

    const { context, page } = await newPage(browser);
    await loginThroughForm(page, t.httpUrl, 'supervisor1');
    await page.getByRole('link', { name: '报表' }).click();
    const report = page.locator('[data-testid=report]');
    await report.waitFor({ timeout: 5000 });
    await eventually(() => report.locator('.facts dd').first().textContent()).toBe('4');
    await eventually(() => report.locator('svg.histogram rect').count()).toBeGreaterThan(2);
    await eventually(() => report.textContent()).toContain('60 秒内确认');
    await eventually(() => report.textContent()).toContain('Liu Yang');
    await eventually(() => report.textContent()).toContain('火警');
    for (const lang of LANGS) {
      await setLanguage(page, lang);
      await screenshot(page, `reports-${lang}`, true);
    }
    await context.close();
  }, 60_000);
});
