import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { App } from '../../../src/app.js';
import { startHttp, type RunningServer } from './http.js';

/**
 * Headless Chromium for the browser tests: Debian's `/usr/bin/chromium` driven by playwright-core (no browser
 * download; `apt-get install -y chromium`). Screenshots for docs/ are written only by `npm run docs:screenshots`
 * (SCREENSHOTS=1), so `npm test` leaves the checkout clean.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when Chromium is missing and SKIP_BROWSER_TEST=1 says to skip (else a missing Chromium fails the test). */
export const SKIP_BROWSER = !existsSync(CHROMIUM) && process.env.SKIP_BROWSER_TEST === '1';

/** Launches Chromium headless, with the flags that keep it from calling any host of its own. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set SKIP_BROWSER_TEST=1 to skip this test)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves `page` as `docs/screenshots/<name>.png` when SCREENSHOTS=1 (`npm run docs:screenshots`); else nothing. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  const path = `docs/screenshots/${name}.png`;
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
}

/** Records every request `page` makes to an origin other than `base` (fonts, scripts, styles, anything). */
export function foreignRequests(page: Page, base: string): string[] {
  const origin = new URL(base).origin;
  const seen: string[] = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('data:') && new URL(u).origin !== origin) seen.push(u);
  });
  return seen;
}

/** The service's HTTP server and a Chromium pointed at it, for one browser test file (see {@link startBrowserFixture}). */
export interface BrowserFixture {
  /** The server's base URL (`http://127.0.0.1:<port>`). */
  readonly base: string;
  /** A fresh browser context on {@link base}, logged in as `who` when given (Chromium answers the Basic challenge). */
  context(who?: { user: string; password: string }): Promise<BrowserContext>;
  /** Closes every context opened, Chromium and the server. */
  close(): Promise<void>;
}

/** Starts the HTTP server over `app` (support/http.ts) and Chromium ({@link launchChromium}); pages are `viewport` in size. */
export async function startBrowserFixture(app: App, viewport: { width: number; height: number }): Promise<BrowserFixture> {
  const http: RunningServer = await startHttp(app);
  const browser = await launchChromium().catch(async (err: unknown) => {
    await http.server.close();
    throw err;
  });
  const contexts: BrowserContext[] = [];
  return {
    base: http.base,
    async context(who) {
      const c = await browser.newContext({
        baseURL: http.base,
        viewport,
        ...(who ? { httpCredentials: { username: who.user, password: who.password } } : {}),
      });
      contexts.push(c);
      return c;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await http.server.close();
    },
  };
}
