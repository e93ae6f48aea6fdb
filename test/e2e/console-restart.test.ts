import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRaw, startHub, type TestHub, tempDir } from '../helpers/hub.js';
import { eventually, launchBrowser, loginThroughForm, newPage, screenshot } from './helpers/browser.js';
import { device } from './helpers/device.js';

/** The same data dir and the same HTTP port, so the page's own reconnects find the new hub. */
async function restartHub(dataDir: string, httpPort: number): Promise<TestHub> {
  const raw = demoRaw();
  raw.http = { ...(raw.http as Record<string, unknown>), port: httpPort };
  return startHub({ raw, dataDir, env: { CAREHUB_HTTP_PORT: String(httpPort) } });
}

describe('staff console: the page recovers when the hub restarts', () => {
  let browser: Browser;
  const dataDir = tempDir('carehub-e2e-restart-');
  const hubs: TestHub[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const h of hubs) await h.stop({ keepData: true }).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says the connection is lost, reconnects by itself, resumes after the last seq and shows new alerts', async () => {
    const first = await startHub({ dataDir });
    hubs.push(first);
    const port = first.hub.ports.http;
    const { context, page } = await newPage(browser);
    const sent: string[] = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));

    await loginThroughForm(page, first.httpUrl, 'duty1');
    const before = await device(first.mqttUrl, 'h1-sos');
    await before.publish({ type: 'sos.pressed', id: 'before-restart' });
    await page.locator('.alert-card[data-kind=sos]').waitFor({ timeout: 2000 });
    await before.end();

    await first.stop({ keepData: true });
    hubs.pop();
    const banner = page.locator('[data-testid=connection-lost]');
    await banner.waitFor({ timeout: 3000 });
    await eventually(() => banner.textContent()).toContain('连接已断开');
    await eventually(() => page.locator('.conn').textContent()).toContain('已断开');
    await screenshot(page, 'connection-lost-zh-CN');
    // what the page held is still shown while the hub is away
    await eventually(() => page.locator('.alert-card').count()).toBe(1);

    const second = await restartHub(dataDir, port);
    hubs.push(second);
    expect(second.hub.ports.http).toBe(port);
    await banner.waitFor({ state: 'detached', timeout: 10_000 });
    await page.locator('.conn-ok').waitFor();
    expect(sent.some((f) => /"type":"resume","afterSeq":\d+/.test(f))).toBe(true);

    const smoke = await device(second.mqttUrl, 'h2-smoke');
    await smoke.publish({ type: 'smoke.detected', id: 'after-restart' });
    await page.locator('.alert-card[data-kind=smoke]').waitFor({ timeout: 2000 });
    await eventually(() => page.locator('.alert-card').count()).toBe(2);
    await smoke.end();
    await context.close();
  });
});
