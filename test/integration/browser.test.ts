import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';
import { CHROMIUM, foreignRequests, screenshot, SKIP_BROWSER, startBrowserFixture, type BrowserFixture } from './support/browser.js';
import { CREDENTIALS } from './support/http.js';

/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core; docs/PLATFORM.md#browser-tests): the viewer sees
 * both queues and a completed job, no credentials get 401, and the server's role and CSRF rules hold for the
 * requests a browser really sends (docs/CONSOLE.md#roles), and its page loads nothing from another host (docs/CONSOLE.md).
 * `npm run docs:screenshots` saves docs/screenshots/dashboard.png; `npm test` writes nothing.
 *
 * Needs `/usr/bin/chromium` (`apt-get install -y chromium`; .ci/run installs it). Without it the test fails,
 * unless SKIP_BROWSER_TEST=1 says to skip it.
 */

const skip = SKIP_BROWSER;
if (skip) console.warn(`browser.test.ts skipped: ${CHROMIUM} is missing and SKIP_BROWSER_TEST=1 (install it with apt-get install -y chromium)`);

let h: Harness;
/** The HTTP server and Chromium; `ui.context()` is a fresh context, logged in when given credentials. */
let ui: BrowserFixture;

(skip ? describe.skip : describe)('dashboard in Chromium', () => {
  beforeAll(async () => {
    h = await createHarness('browser');
    await seedCrm(
      h,
      [{ id: 'b', dealerId: '51', siteId: '3' }],
      [
        { id: 'b1', siteId: 'b', firstName: 'Aiko', lastName: 'Mori' },
        { id: 'b2', siteId: 'b', firstName: 'Bram', lastName: 'Visser' },
      ],
    );
    const report = await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 });
    expect(report.counts).toEqual({ create: { succeeded: 2 } });
    ui = await startBrowserFixture(h.app, { width: 1280, height: 800 });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await h?.close();
  });

  test('without credentials the dashboard answers 401', async () => {
    const page = await (await ui.context()).newPage();
    const answered = page.waitForResponse((r) => r.url() === `${ui.base}/admin/queues`);
    // With no credentials to offer, Chromium gives up on the Basic challenge (ERR_INVALID_AUTH_CREDENTIALS)
    // instead of rendering the 401 page; the response itself is what matters.
    await page.goto('/admin/queues').catch(() => undefined);
    const res = await answered;
    expect(res.status()).toBe(401);
    expect(res.headers()['www-authenticate']).toMatch(/^Basic/);
  });

  test('the viewer sees both queues and a completed job; the page asks no other host (no web fonts)', async () => {
    const page = await (await ui.context(CREDENTIALS.viewer)).newPage();
    const foreign = foreignRequests(page, ui.base);
    const res = await page.goto('/admin/queues');
    expect(res?.status()).toBe(200);
    await page.getByText('contact-operations').first().waitFor();
    await page.getByText('sync-control').first().waitFor();
    await page.goto('/admin/queues/queue/contact-operations?status=completed');
    // A completed operation job: its id starts with "op/" (queue/producer.ts), shown on its card.
    await page
      .getByText(/op\/51\/3\/b[12]/)
      .first()
      .waitFor();
    await page.waitForLoadState('networkidle');
    expect(foreign).toEqual([]);
    // bull-board links back to the console, from the menu at the end of its header.
    await page.locator('ul[class^="actions-"] > li').last().locator('button').click();
    await page.getByText('Console', { exact: true }).first().waitFor();
    await screenshot(page, 'dashboard');
  });

  test("the dashboard's own write requests: 403 for the viewer, accepted for the operator (same origin)", async () => {
    const retry = '/admin/queues/api/queues/contact-operations/retry/failed';
    const put = (path: string) => fetch(path, { method: 'PUT' }).then((r) => r.status);
    const viewerPage = await (await ui.context(CREDENTIALS.viewer)).newPage();
    await viewerPage.goto('/admin/queues');
    expect(await viewerPage.evaluate(put, retry)).toBe(403);
    const adminPage = await (await ui.context(CREDENTIALS.admin)).newPage();
    await adminPage.goto('/admin/queues');
    expect(await adminPage.evaluate(put, retry)).toBe(200);
  });

  test("a form on another site posting to /api/resync with the operator's credentials is refused 403 csrf", async () => {
    const c = await ui.context(CREDENTIALS.admin);
    // The attacker's page, served by the browser itself (no DNS): a form that posts cross-site on load.
    await c.route('http://evil.test/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="POST" action="${ui.base}/api/resync" enctype="text/plain"><input name='{"dryRun":false,"x":"' value='"}'></form>
               <script>document.forms[0].submit()</script>`,
      }),
    );
    const runsBefore = await h.app.db.syncRun.count();
    const page = await c.newPage();
    const answered = page.waitForResponse((r) => r.url() === `${ui.base}/api/resync`);
    await page.goto('http://evil.test/');
    const res = await answered;
    expect(res.status()).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'csrf' } });
    expect(await h.app.db.syncRun.count()).toBe(runsBefore);
  });
});
