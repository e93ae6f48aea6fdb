import mqtt from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import qrcode from 'qrcode-generator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { login, startHub, type TestHub } from '../helpers/hub.js';
import { eventually, launchBrowser, loginThroughForm, newPage, screenshot } from './helpers/browser.js';

/** The path the console draws for a QR code of `text` (admin/qr-code.tsx), to check the sheet's codes. */
function qrPath(text: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  let d = '';
  for (let r = 0; r < qr.getModuleCount(); r++)
    for (let c = 0; c < qr.getModuleCount(); c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
  return d;
}

describe('site administration in the console (real hub, real Chromium)', () => {
  let browser: Browser;
  let t: TestHub;
  const contexts: BrowserContext[] = [];
  let page: Page;
  const clients: mqtt.MqttClient[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    t = await startHub();
    const p = await newPage(browser);
    contexts.push(p.context);
    page = p.page;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    for (const c of contexts.splice(0)) await c.close();
    await t?.stop();
  });

  it('an admin adds a home with two devices, prints the installer sheet, and the new device’s SOS reaches the duty queue', async () => {
    await loginThroughForm(page, t.httpUrl, 'admin1');
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('link', { name: 'Add a home' }).click();
    await page.getByLabel('Home id').fill('h40');
    await page.getByLabel('Address').fill('Wenting Lane 40-101');
    await page.getByLabel('Grid').selectOption('g1');
    await page.getByRole('button', { name: 'Add a resident' }).click();
    await page.getByLabel('Resident id').fill('r40');
    await page.getByLabel('Name', { exact: true }).fill('Sun Guiying');
    await page.getByLabel('Year of birth').fill('1940');
    await page.getByRole('button', { name: 'Add a contact' }).click();
    await page.getByLabel('Contact name').fill('Sun Li');
    await page.getByLabel('Relation').selectOption('family');
    await page.getByLabel('Phone').last().fill('+86 138 0000 0040');
    await page.getByRole('checkbox', { name: 'SMS' }).check();
    await page.getByRole('button', { name: 'Add the home' }).click();
    await eventually(() => page.evaluate('location.hash')).toBe('#/admin/homes/h40');

    for (const [id, kind] of [
      ['h40-sos', 'sos_button'],
      ['h40-door', 'door_sensor'],
    ] as const) {
      await page.getByLabel('Device id').fill(id);
      await page.getByLabel('Kind').selectOption(kind);
      await page.getByRole('button', { name: 'Add the device' }).click();
      await eventually(() => page.locator(`tr[data-device-id="${id}"]`).count()).toBe(1);
      await eventually(() => page.locator('.secret-once').textContent()).toContain(id);
    }
    expect(t.hub.directory.home('h40')?.devices.map((d) => d.id)).toEqual(['h40-sos', 'h40-door']);
    await screenshot(page, 'admin-home', true);

    await page.getByRole('link', { name: 'Installer sheet' }).click();
    const sheet = page.locator('.sheet');
    await eventually(() => sheet.locator('.sheet-device').count()).toBe(2);
    await eventually(() => sheet.locator('svg.qr').count()).toBe(2);
    const port = t.hub.ports.mqtt;
    expect(await sheet.locator('.sheet-mqtt').textContent()).toContain(String(port));
    const secrets: Record<string, string> = {};
    for (const id of ['h40-sos', 'h40-door']) {
      const item = sheet.locator(`.sheet-device[data-device-id="${id}"]`);
      const secret = (await item.locator('code.secret').textContent()) ?? '';
      expect(secret).toMatch(/^chs1_[A-Za-z0-9_-]{32}$/);
      secrets[id] = secret;
      // The QR code holds where and how the device connects, with its secret.
      const d = await item.locator('svg.qr path').getAttribute('d');
      expect(d).toBe(qrPath(`mqtt://${id}:${secret}@127.0.0.1:${port}`));
    }
    // Print: the browser's print is called, and printed, the page is the sheet alone.
    await page.evaluate('window.printed = 0; window.print = () => { window.printed++; }');
    await page.getByRole('button', { name: 'Print' }).click();
    expect(await page.evaluate('window.printed')).toBe(1);
    await page.emulateMedia({ media: 'print' });
    const display = (selector: string) =>
      page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).display`);
    expect(await display('.header')).toBe('none');
    expect(await display('.sheet-tools')).toBe('none');
    expect(await sheet.isVisible()).toBe(true);
    await screenshot(page, 'admin-installer-sheet', true);
    await page.emulateMedia({ media: 'screen' });

    // A duty officer of grid g1 watches the queue; the new pendant is pressed.
    const duty = await newPage(browser);
    contexts.push(duty.context);
    await loginThroughForm(duty.page, t.httpUrl, 'duty1');
    const device = await mqtt.connectAsync(t.mqttUrl, {
      clientId: 'h40-sos',
      username: 'h40-sos',
      password: secrets['h40-sos'] ?? '',
      reconnectPeriod: 0,
    });
    clients.push(device);
    await device.publishAsync(
      'carehub/v1/devices/h40-sos/events',
      JSON.stringify({ type: 'sos.pressed', id: 'e2e-1' }),
      {
        qos: 1,
      },
    );
    const card = duty.page.locator('.alert-card[data-kind=sos]');
    await eventually(() => card.count()).toBe(1);
    await eventually(() => card.first().textContent()).toContain('Wenting Lane 40-101');
  });

  it('forms say what is wrong next to the field, in the console’s language, with the API’s words', async () => {
    await loginThroughForm(page, t.httpUrl, 'admin1');
    // The admin switches the console to Chinese.
    await page.locator('.lang-select select').selectOption('zh-CN');
    await page.evaluate("location.hash = '#/admin/homes/+new'");
    await page.getByLabel('住户编号').fill('h41');
    await page.getByLabel('地址', { exact: true }).fill('x');
    await page.getByRole('button', { name: '添加居民' }).click();
    await page.getByLabel('居民编号').fill('r41');
    await page.getByLabel('姓名', { exact: true }).fill('Li');
    await page.getByLabel('电话', { exact: true }).first().fill('call me');
    await page.getByRole('button', { name: '添加这一户' }).click();
    const phone = page.locator('#resident-0-phone');
    await eventually(() => phone.getAttribute('aria-invalid')).toBe('true');
    const message = await page.locator('#resident-0-phone-error').textContent();
    expect(message).toBe('不是有效的电话号码');
    // The same words the API answers in that language (hub/locales).
    const r = await fetch(`${t.httpUrl}/api/v1/homes`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await login(t.httpUrl, 'admin1')}`,
        'content-type': 'application/json',
        'accept-language': String(await page.evaluate('document.documentElement.lang')),
      },
      body: JSON.stringify({
        id: 'h41',
        address: 'x',
        grid: 'g1',
        residents: [{ id: 'r41', name: 'Li', phone: 'call me' }],
      }),
    });
    const api = (await r.json()) as { error: { problems: Array<{ field: string; message: string }> } };
    expect(message).toBe(api.error.problems.find((p) => p.field === 'residents.0.phone')?.message);
    expect(t.hub.directory.home('h41')).toBeUndefined();
  });

  it('is keyboard operable: a grid added and a staff member removed without the mouse', async () => {
    await loginThroughForm(page, t.httpUrl, 'admin1');
    await page.evaluate("location.hash = '#/admin/grids'");
    await page.getByLabel('Grid id').focus();
    await page.keyboard.type('g7');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Seventh grid');
    await page.keyboard.press('Enter');
    await eventually(() => page.locator('tr[data-grid-id="g7"]').count()).toBe(1);
    expect(t.hub.directory.grid('g7')?.name).toBe('Seventh grid');

    await page.evaluate("location.hash = '#/admin/staff'");
    const row = page.locator('tr[data-staff-id="duty1"]');
    await row.locator('summary').focus();
    await page.keyboard.press('Enter');
    await row.getByRole('button', { name: 'Remove' }).focus();
    await page.keyboard.press('Enter');
    await eventually(() => page.locator('tr[data-staff-id="duty1"]').count()).toBe(0);
    expect(t.hub.directory.staff('duty1')).toBeUndefined();
  });
});
