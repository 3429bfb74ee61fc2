import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

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
