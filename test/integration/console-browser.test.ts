import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { foreignRequests, screenshot, SKIP_BROWSER, startBrowserFixture, type BrowserFixture } from './support/browser.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';
import { CREDENTIALS } from './support/http.js';
import { receiver } from './support/webhook.js';

/**
 * The operator console in a real headless Chromium (docs/CONSOLE.md#pages), against the running
 * service (real PostgreSQL, Redis, the sandbox over HTTP): the console renders a held site; the viewer sees no
 * button and a forged POST is refused; the operator approves with a click and sees the deletes run; the audit
 * names them; no page asks another host; and, as a new operator meets it, the hold's alert arrives before they
 * act and its clearing after. `npm run docs:screenshots` saves docs/screenshots/console-*.png.
 */

const skip = SKIP_BROWSER;
let h: Harness;
/** The HTTP server and Chromium; `ui.context(who)` is a fresh context logged in as `who`. */
let ui: BrowserFixture;
let hook: Awaited<ReturnType<typeof receiver>>;

(skip ? describe.skip : describe)('console in Chromium', () => {
  beforeAll(async () => {
    hook = await receiver();
    h = await createHarness('console_browser', { env: { ALERT_WEBHOOK_URL: hook.url, ALERT_CHECK_INTERVAL_MS: '200' } });
    await seedCrm(
      h,
      [{ id: 'a', dealerId: '81', siteId: '1', name: 'Harbour Depot' }],
      [
        // A mobile left after the deletes: the site stays reachable, so the hold is the one alert.
        { id: 'c1', siteId: 'a', firstName: 'Aiko', lastName: 'Mori', phoneNumber: '+44 7911 123456' },
        { id: 'c2', siteId: 'a', firstName: 'Bram', lastName: 'Visser' },
        { id: 'c3', siteId: 'a', firstName: 'Chidi', lastName: 'Obi' },
      ],
    );
    expect((await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 })).counts).toEqual({ create: { succeeded: 3 } });
    await h.app.db.contact.updateMany({ where: { id: { in: ['c2', 'c3'] } }, data: { deletedAt: new Date() } });
    expect((await runSync(h.app, { trigger: 'cli', dryRun: false, sites: [], timeoutMs: 60_000 })).status).toBe('held');
    await h.app.startWorkers();
    h.app.startAlerts();
    ui = await startBrowserFixture(h.app, { width: 1280, height: 900 });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await h?.close();
    await new Promise((r) => hook?.server.close(r));
  });

  test('the viewer sees the held site and no button; a forged POST is refused; nothing from another host', async () => {
    const page = await (await ui.context(CREDENTIALS.viewer)).newPage();
    const foreign = foreignRequests(page, ui.base);
    await page.goto('/console');
    const row = page.locator('tr', { hasText: '81/1' }).first();
    await row.waitFor();
    expect(await row.innerText()).toMatch(/81\/1\s+.*%.*\s+2\/3/s);
    expect(await page.getByText('Needs an operator').count()).toBe(1);
    await page.getByRole('link', { name: '81/1' }).first().click();
    await page.getByText('Deletes an approval runs (2)').waitFor();
    expect(await page.getByRole('button').count()).toBe(0);
    // The page itself cannot even send one (its Content-Security-Policy allows no fetch); forged outside the page:
    expect(
      await page.evaluate(() =>
        fetch('/console/sites/81/1/approve', { method: 'POST' }).then(
          () => 'sent',
          () => 'blocked',
        ),
      ),
    ).toBe('blocked');
    const forged = await page.request.post('/console/sites/81/1/approve', { form: {}, headers: { origin: ui.base } });
    expect(forged.status()).toBe(403);
    expect(await forged.json()).toMatchObject({ error: { code: 'forbidden' } });
    expect(await h.app.db.syncHold.count()).toBe(1);
    expect(await h.app.db.syncAudit.count()).toBe(0);
    expect(foreign).toEqual([]);
  });

  test("a page on another site posting the approval with the operator's credentials is refused 403 csrf", async () => {
    const c = await ui.context(CREDENTIALS.admin);
    await c.route('http://evil.test/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: `<form method="POST" action="${ui.base}/console/sites/81/1/approve"></form><script>document.forms[0].submit()</script>` }),
    );
    const page = await c.newPage();
    const answered = page.waitForResponse((r) => r.url() === `${ui.base}/console/sites/81/1/approve`);
    await page.goto('http://evil.test/');
    expect((await answered).status()).toBe(403);
    expect(await h.app.db.syncHold.count()).toBe(1);
  });

  test('the operator approves with a click, sees the deletes run, and the audit names them', async () => {
    // The on-call engineer was told first.
    for (let i = 0; i < 100 && hook.got.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(hook.got.map((g) => [g.body.event, g.body.site])).toEqual([['hold.created', '81/1']]);
    const page = await (await ui.context(CREDENTIALS.admin)).newPage();
    const foreign = foreignRequests(page, ui.base);
    await page.goto('/console');
    await screenshot(page, 'console-overview');
    await page.getByRole('link', { name: 'review and approve' }).click();
    const held = page.locator('table').first();
    expect((await held.innerText()).match(/c[0-9]/g)).toEqual(['c2', 'c3']);
    await screenshot(page, 'console-site');
    const siteText = await page.locator('main').innerText();
    expect(siteText).toContain('SMS-capable contacts: 1 of 1 (1 contact: 1 mobile).');
    for (const secret of ['7911', 'Aiko', 'Mori']) expect(siteText).not.toContain(secret);
    await page.getByRole('button', { name: 'Approve 2 delete(s) of 81/1' }).click();
    await page.waitForURL(/\/console\/runs\/[0-9a-f-]{36}$/);
    // The run page refreshes itself while the run is planning or running.
    await page.locator('tr', { hasText: 'c3' }).filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    await page.locator('p .badge', { hasText: /^completed$/ }).waitFor({ timeout: 30_000 });
    const ops = await page.locator('tr', { hasText: 'delete' }).allInnerTexts();
    expect(ops.filter((t) => /c[23]/.test(t) && /succeeded/.test(t))).toHaveLength(2);
    await screenshot(page, 'console-run');
    expect(h.sandbox.contacts('81', '1').map((c) => c.external_contact_id)).toEqual(['c1']);
    expect(await h.app.db.syncHold.count()).toBe(0);
    await page.getByRole('link', { name: 'Audit' }).click();
    const entry = page.locator('tr', { hasText: 'hold.approve' });
    await entry.waitFor();
    expect(await entry.innerText()).toMatch(new RegExp(`${CREDENTIALS.admin.user}\\s+operator\\s+hold.approve\\s+81/1.*"externalContactIds":\\["c2","c3"\\].*succeeded`, 's'));
    await screenshot(page, 'console-audit');
    expect(foreign).toEqual([]);
    for (let i = 0; i < 100 && hook.got.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(hook.got.map((g) => [g.body.event, g.body.site])).toEqual([
      ['hold.created', '81/1'],
      ['hold.cleared', '81/1'],
    ]);
  }, 60_000);
});
