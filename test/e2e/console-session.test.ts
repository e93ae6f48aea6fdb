import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startHub, type TestHub } from '../helpers/hub.js';
import { launchBrowser, loginThroughForm, newPage } from './helpers/browser.js';

describe('staff console: a session that ends elsewhere ends the page’s feed', () => {
  let browser: Browser;
  let t: TestHub | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('logging the session out from another client closes the feed (4401) and the page shows the login', async () => {
    t = await startHub();
    const { context, page } = await newPage(browser);
    let feedsClosed = 0;
    page.on('websocket', (ws) => ws.on('close', () => feedsClosed++));
    await loginThroughForm(page, t.httpUrl, 'duty1');
    const cookie = (await context.cookies()).find((c) => c.name === 'carehub_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    expect((await api(t.httpUrl, cookie?.value ?? '', '/api/v1/logout', { body: {} })).status).toBe(200);
    await page.locator('.login-form').waitFor({ timeout: 5000 });
    expect(feedsClosed).toBeGreaterThanOrEqual(1);
    await context.close();
  });
});
