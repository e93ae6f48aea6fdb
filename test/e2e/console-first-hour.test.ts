import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { api, DEMO_CONFIG, login, startHub, type TestHub } from '../helpers/hub.js';
import { eventually, launchBrowser, loginThroughForm, newPage, screenshot } from './helpers/browser.js';
import { playScene, type Scene } from './helpers/scene.js';

/**
 * What a duty officer sees in the first hour (issue 22), on the drill-clock shift of scene.ts plus a
 * second fire detection, a door left open twice and a door sensor going offline and back: at laptop,
 * desktop and tablet sizes, in both languages.
 */

const LOCALES = join(import.meta.dirname, '..', '..', 'dashboards', 'console', 'src', 'locales');
const LANGS = ['zh-CN', 'en'] as const;
type Lang = (typeof LANGS)[number];
const VIEWPORTS = [
  { name: 'laptop', width: 1366, height: 768 },
  { name: 'desktop', width: 1920, height: 1080 },
  { name: 'tablet', width: 768, height: 1024 },
] as const;

const catalog = (lang: Lang) =>
  JSON.parse(readFileSync(join(LOCALES, `${lang}.json`), 'utf8')) as Record<string, string>;

/** Every text of the demo site a page may show as data (names, addresses, notes, labels, phones). */
function demoDataTexts(): string[] {
  const raw = parse(readFileSync(DEMO_CONFIG, 'utf8')) as {
    site: { name: string };
    homes: Array<{
      address: string;
      grid: string;
      residents: Array<{ name: string; notes?: string; phone?: string }>;
      contacts: Array<{ name: string; phone: string; notes?: string }>;
      devices: Array<{ id: string; label?: string }>;
    }>;
    staff: Array<{ name: string }>;
  };
  const out = [raw.site.name, ...raw.staff.map((s) => s.name)];
  for (const h of raw.homes) {
    out.push(h.address, h.grid);
    for (const r of h.residents) out.push(r.name, r.notes ?? '', r.phone ?? '');
    for (const c of h.contacts) out.push(c.name, c.phone, c.notes ?? '');
    for (const d of h.devices) out.push(d.label ?? '', d.id);
  }
  // longest first, so a whole address goes before a name inside it
  return out.filter(Boolean).sort((a, b) => b.length - a.length);
}

/** The page's visible text with the site's data taken out: what is left is the console's own words. */
async function consoleWords(page: Page): Promise<string> {
  let text = (await page.evaluate('document.body.innerText')) as string;
  for (const d of demoDataTexts()) text = text.split(d).join(' ');
  return text;
}

/** Latin words the zh-CN console may show that are no translation slip: names of languages, units, the brand. */
const ALLOWED_LATIN = new Set(['CareHub', 'English', 'SOS', 'RSSI', 'AM', 'PM']);

async function expectOwnWords(page: Page, lang: Lang, where: string): Promise<void> {
  const words = await consoleWords(page);
  // a raw key such as status.online or badge.occurrences (never a sentence's full stop: no space after the dot)
  const keys = words.match(/\b[a-z][a-zA-Z_]*\.[a-z][a-zA-Z_.]*\b/g) ?? [];
  expect(keys, `${where} (${lang}): raw translation keys`).toEqual([]);
  if (lang === 'zh-CN') {
    const latin = (words.match(/[A-Za-z][A-Za-z'-]+/g) ?? []).filter((w) => !ALLOWED_LATIN.has(w));
    expect(latin, `${where} (zh-CN): English words on the Chinese console`).toEqual([]);
  } else {
    const han = words.match(/[\u4e00-\u9fff]+/g) ?? [];
    // the language switch names 简体中文 in its own language
    expect(
      han.filter((w) => w !== catalog('zh-CN')['_meta.name']),
      `${where} (en): Chinese on the English console`,
    ).toEqual([]);
  }
}

async function setLanguage(page: Page, lang: Lang): Promise<void> {
  await page.locator('.header select').selectOption(lang);
  await page.locator(`html[lang="${lang}"]`).waitFor();
}

/** The element's box lies within the first screen (no scrolling) and is not cut at the side. */
async function onFirstScreen(page: Page, selector: string): Promise<boolean> {
  const el = page.locator(selector).first();
  await el.waitFor();
  const box = await el.boundingBox();
  const vp = page.viewportSize();
  if (!box || !vp) return false;
  return box.y >= 0 && box.y + box.height <= vp.height && box.x >= 0 && box.x + box.width <= vp.width;
}

describe('the first hour with the console: calls first, own words, each kind its repeat wording', () => {
  let browser: Browser;
  let t: TestHub;
  let scene: Scene;
  let sosId: string;
  let fireId: string;
  let doorId: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await startHub({ env: { CAREHUB_CLOCK: 'manual' }, manualClockStart: Date.now() - 40 * 60_000 });
    scene = await playScene(t);
    const d = (id: string) => {
      const found = scene.devices.get(id);
      if (!found) throw new Error(`no device ${id}`);
      return found;
    };
    // the kitchen detector sees smoke again: the fire alert repeats
    await d('h1-smoke').publish({ type: 'smoke.detected', id: 'hour-h1-smoke-2' });
    // the front door of h1 drops off the network and comes back: two status messages in the timeline
    await d('h1-door').client.publishAsync('carehub/v1/devices/h1-door/status', '{"state":"offline"}', {
      qos: 1,
    });
    await d('h1-door').client.publishAsync('carehub/v1/devices/h1-door/status', '{"state":"online"}', {
      qos: 1,
    });
    // h2's door left open twice past the 10 minutes: one door alert, repeated
    await d('h2-door').publish({ type: 'door.opened', id: 'hour-h2-door-1' });
    await scene.advance(11 * 60_000);
    await d('h2-door').publish({ type: 'door.closed', id: 'hour-h2-door-2' });
    await d('h2-door').publish({ type: 'door.opened', id: 'hour-h2-door-3' });
    await scene.advance(11 * 60_000);
    await d('h2-door').publish({ type: 'door.closed', id: 'hour-h2-door-4' });

    const list = await api<{
      alerts: Array<{ id: string; kind: string; homeId: string; occurrences: number }>;
    }>(t.httpUrl, scene.supervisorToken, '/api/v1/alerts?status=open');
    const find = (kind: string, home: string) => {
      const a = list.body.alerts.find((x) => x.kind === kind && x.homeId === home);
      if (!a) throw new Error(`no ${kind} alert in ${home}: ${JSON.stringify(list.body.alerts)}`);
      return a;
    };
    sosId = find('sos', 'h1').id;
    fireId = find('smoke', 'h1').id;
    const door = find('door_left_open', 'h2');
    doorId = door.id;
    expect(find('smoke', 'h1').occurrences).toBe(2);
    expect(find('sos', 'h1').occurrences).toBe(2);
    expect(door.occurrences).toBe(2);
  }, 90_000);
  afterAll(async () => {
    await scene?.end();
    await browser?.close();
    await t?.stop();
  });

  for (const vp of VIEWPORTS) {
    for (const lang of LANGS) {
      it(`${vp.name} ${vp.width}×${vp.height}, ${lang}: the resident's phone and the first contact's Call button without scrolling`, async () => {
        const { context, page } = await newPage(browser, { width: vp.width, height: vp.height });
        try {
          await loginThroughForm(page, t.httpUrl, 'duty1');
          await setLanguage(page, lang);
          await page.goto(`${t.httpUrl}/#/alerts/${sosId}`);
          const call = page.locator('.call-panel');
          await call.locator('.contact-resident a.tel').waitFor();
          expect(await call.locator('.contact-resident a.tel').getAttribute('href')).toBe(
            'tel:+8613000000101',
          );
          expect(await onFirstScreen(page, '.call-panel .contact-resident a.tel'), 'resident phone').toBe(
            true,
          );
          expect(
            await onFirstScreen(page, '.call-panel li.contact:not(.contact-resident) a.tel'),
            'first contact',
          ).toBe(true);
          // the one Acknowledge button for this alert, also on the first screen
          expect(await onFirstScreen(page, '.detail-head .ack-box button'), 'acknowledge').toBe(true);
          // the strip above shows the other critical alerts, never this one a second time
          expect(await page.locator(`.critical-strip a[href="#/alerts/${sosId}"]`).count()).toBe(0);
          expect(await page.locator('.critical-strip li').count()).toBeGreaterThan(0);
          // each contact once, with its Call button on the line of its name (no role said twice, no wrap)
          const rows = (await page.evaluate(`[...document.querySelectorAll('.call-panel li')].map((li) => {
            const who = li.querySelector('.contact-who strong')?.getBoundingClientRect();
            const tel = li.querySelector('a.tel')?.getBoundingClientRect();
            return { text: li.innerText, sameLine: !!who && !!tel && who.top < tel.bottom && tel.top < who.bottom };
          })`)) as Array<{ text: string; sameLine: boolean }>;
          expect(rows.length).toBe(3);
          for (const r of rows) expect(r.sameLine, r.text).toBe(true);
          const gridWorker = rows[2]?.text ?? '';
          const role = catalog(lang)['relation.grid_worker'] ?? '';
          expect(gridWorker.split(role).length - 1, gridWorker).toBe(1);
          // nothing wider than the screen
          expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(vp.width);
          await expectOwnWords(page, lang, `alert detail at ${vp.name}`);
          if (vp.name !== 'laptop') await screenshot(page, `detail-${vp.name}-${lang}`);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('fire, SOS and door alerts each say what repeated, in zh-CN and en', async () => {
    const { context, page } = await newPage(browser);
    try {
      await loginThroughForm(page, t.httpUrl, 'duty1');
      const repeat = (id: string) => page.locator(`.alert-card[data-alert-id="${id}"] .badge-repeat`);
      const expected: Record<Lang, Record<string, string>> = {
        'zh-CN': { fire: '检测到烟雾 2 次', sos: '已按 2 次', door: '门未关 2 次' },
        en: { fire: 'Smoke detected 2 times', sos: 'Pressed 2 times', door: 'Left open 2 times' },
      };
      for (const lang of LANGS) {
        await setLanguage(page, lang);
        await eventually(() => repeat(fireId).textContent()).toBe(expected[lang].fire);
        await eventually(() => repeat(sosId).textContent()).toBe(expected[lang].sos);
        await eventually(() => repeat(doorId).textContent()).toBe(expected[lang].door);
      }
    } finally {
      await context.close();
    }
  });

  it('shows device status changes in words on the timeline, and every view in the language’s own words', async () => {
    const { context, page } = await newPage(browser);
    try {
      await loginThroughForm(page, t.httpUrl, 'duty1');
      for (const lang of LANGS) {
        await setLanguage(page, lang);
        const words = catalog(lang);
        await page.goto(`${t.httpUrl}/#/queue`);
        await page.locator('.alert-card').first().waitFor();
        await expectOwnWords(page, lang, 'queue');
        await page.goto(`${t.httpUrl}/#/alerts/${sosId}`);
        const timeline = page.locator('.timeline');
        await eventually(() => timeline.textContent()).toContain(words['event.status.offline']);
        await eventually(() => timeline.textContent()).toContain(words['event.status.online']);
        expect(await timeline.textContent()).not.toContain('status.');
        await expectOwnWords(page, lang, 'alert detail');
        await page.goto(`${t.httpUrl}/#/homes`);
        await page.locator('.home-card').first().waitFor();
        await expectOwnWords(page, lang, 'homes');
        await page.goto(`${t.httpUrl}/#/reports`);
        await page.locator('[data-testid=report]').waitFor();
        await expectOwnWords(page, lang, 'reports');
      }
    } finally {
      await context.close();
    }
  });

  it('names who acknowledged by name in the queue, and an acknowledged alert is no longer "waiting"', async () => {
    const { context, page } = await newPage(browser);
    try {
      await loginThroughForm(page, t.httpUrl, 'duty1');
      const card = page.locator(`.alert-card[data-alert-id="${fireId}"]`);
      await card.getByRole('button', { name: '确认接警' }).click();
      await eventually(() => card.getAttribute('data-status')).toBe('acknowledged');
      await eventually(() => card.locator('.badge.status-acknowledged').textContent()).toBe(
        '刘洋 (Liu Yang) 已确认',
      );
      expect(await card.textContent()).not.toContain('duty1');
      expect(await card.locator('.age-label').textContent()).toBe('已确认');
      const open = page.locator(`.alert-card[data-alert-id="${sosId}"] .age-label`);
      expect(await open.textContent()).toBe('已等待');
      await setLanguage(page, 'en');
      await eventually(() => card.locator('.badge.status-acknowledged').textContent()).toBe(
        'Acknowledged by 刘洋 (Liu Yang)',
      );
      expect(await card.locator('.age-label').textContent()).toBe('acknowledged');
      expect(await card.locator('.age').textContent()).toMatch(/ ago$/);
    } finally {
      await context.close();
    }
  });

  it('says "1 open alert" and "2 homes" with the right plural in English', async () => {
    // h1 keeps one open alert: the fire (acknowledged above); its SOS is resolved here
    const duty = await login(t.httpUrl, 'duty1');
    const res = await api(t.httpUrl, duty, `/api/v1/alerts/${sosId}/resolve`, {
      body: { outcome: 'accidental' },
    });
    expect(res.status).toBe(200);
    const { context, page } = await newPage(browser);
    try {
      await loginThroughForm(page, t.httpUrl, 'duty1');
      await setLanguage(page, 'en');
      await page.goto(`${t.httpUrl}/#/homes`);
      const h1 = page.locator('.home-card[data-home-id=h1]');
      await eventually(() => h1.locator('.home-head .sev-critical').textContent()).toBe('1 open alert');
      await eventually(() => page.locator('.summary').textContent()).toMatch(/^2 homes · /);
      const h2 = page.locator('.home-card[data-home-id=h2] .home-head .sev-critical');
      await eventually(() => h2.textContent()).toMatch(/^\d+ open alerts$/);
    } finally {
      await context.close();
    }
  });

  it('keeps the language picked on the login page after signing in', async () => {
    const { context, page } = await newPage(browser);
    try {
      // this browser's last choice was Chinese, for this device and for duty1
      await page.goto(`${t.httpUrl}/`);
      await page.evaluate(`localStorage.setItem('carehub.lang', 'zh-CN');
        localStorage.setItem('carehub.lang.duty1', 'zh-CN')`);
      await page.reload();
      await page.locator('#login-username').waitFor();
      await expectOwnWords(page, 'zh-CN', 'login');
      await page.locator('.login-form select').selectOption('en');
      await page.locator('html[lang="en"]').waitFor();
      await expectOwnWords(page, 'en', 'login');
      // signing in on this very page (loginThroughForm would load the page again)
      await page.locator('#login-username').fill('duty1');
      await page.locator('#login-password').fill('duty1-demo');
      await page.locator('#login-password').press('Enter');
      await page.locator('.conn-ok').waitFor({ timeout: 5000 });
      await eventually(() => page.locator('#queue-title').textContent()).toBe('Alert queue');
      await page.reload();
      await page.locator('.alert-card').first().waitFor();
      await eventually(() => page.locator('#queue-title').textContent()).toBe('Alert queue');
    } finally {
      await context.close();
    }
  });

  it('draws Chinese headings as bold as the Latin beside them (the CJK font stack has a bold)', async () => {
    const { context, page } = await newPage(browser);
    try {
      await loginThroughForm(page, t.httpUrl, 'duty1');
      await page.locator('#queue-title').waitFor();
      // ink of the same Chinese text at the console's regular and bold weights, in its own font stack
      const ink = (await page.evaluate(`(async () => {
        const family = getComputedStyle(document.body).fontFamily;
        const text = '紧急求救告警队列';
        const measure = async (weight) => {
          await document.fonts.load(weight + ' 40px ' + family, text);
          const canvas = document.createElement('canvas');
          canvas.width = 480;
          canvas.height = 64;
          const ctx = canvas.getContext('2d');
          ctx.font = weight + ' 40px ' + family;
          ctx.fillText(text, 4, 48);
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 3; i < data.length; i += 4) n += data[i] / 255;
          return n;
        };
        return { regular: await measure(400), bold: await measure(700) };
      })()`)) as { regular: number; bold: number };
      expect(ink.regular).toBeGreaterThan(0);
      expect(ink.bold / ink.regular).toBeGreaterThan(1.12);
    } finally {
      await context.close();
    }
  });
});
