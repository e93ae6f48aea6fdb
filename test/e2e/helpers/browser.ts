import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CONSOLE_DIST = join(ROOT, 'dashboards', 'console', 'dist', 'index.html');
export const SCREENSHOT_DIR = join(ROOT, 'docs', 'img');

/** Debian's Chromium, headless, with nothing that reaches out to the network. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CONSOLE_DIST)) throw new Error('the console is not built: run `npm run build` first');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export const DESKTOP = { width: 1366, height: 768 };
export const TABLET = { width: 1280, height: 800 };

export async function newPage(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  return { context, page };
}

/** Log in through the plain form, as the acceptance check does: first text input, password, Enter. */
export async function loginThroughForm(
  page: Page,
  httpUrl: string,
  username: string,
  password = `${username}-demo`,
) {
  await page.goto(`${httpUrl}/`);
  await page.locator('input:not([type=password]):not([type=hidden])').first().fill(username);
  await page.locator('input[type=password]').first().fill(password);
  await page.locator('input[type=password]').first().press('Enter');
  await page.locator('.conn-ok').waitFor({ timeout: 5000 });
}

/** docs/img/console-<name>.png, from the top of the page (fullPage: the whole page, else one screen). */
/**
 * The pictures in docs/img, taken only when CAREHUB_SCREENSHOTS=1 (so a test run does not leave the
 * working tree changed); the page is driven to the same state either way.
 */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  if (process.env.CAREHUB_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `console-${name}.png`), fullPage });
}

/** expect.poll with a timeout fit for a loaded 2-core machine (the default is 1 s). */
export function eventually<T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) {
  return expect.poll(fn, { timeout: 5000, ...options });
}
