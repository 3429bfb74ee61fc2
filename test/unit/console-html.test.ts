import { describe, expect, test } from '@jest/globals';
import { alertBody, alertText } from '../../src/alerts/events.js';
import { retryDelayMs, signBody } from '../../src/alerts/deliver.js';
import { esc, html, page, siteLink } from '../../src/http/console/html.js';
import { sitePage, unreachableSection } from '../../src/http/console/pages.js';
import type { StatusOverview } from '../../src/source/readModel/overview.js';
import type { SiteStatus } from '../../src/source/readModel/siteState.js';

describe('console HTML (docs/CONSOLE.md "Pages")', () => {
  test('interpolated values are escaped; nested markup is not escaped twice', () => {
    expect(esc(`<script>"x" & 'y'</script>`)).toBe('&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;');
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${['a', '&']}${null}${undefined}${false}${0}</p>`.html).toBe('<p><b>&lt;i&gt;</b>a&amp;0</p>');
  });

  test('site links percent-encode each part; the page frame names no other host', () => {
    expect(siteLink('a b/"1"').html).toBe('<a href="/console/sites/a%20b/%221%22">a b/&quot;1&quot;</a>');
    const text = page({ title: 'T<', user: 'ops', role: 'operator', body: html`x` });
    expect(text).toContain('<title>T&lt; · chekt-contact-sync</title>');
    expect(text).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(text).not.toContain('<script');
  });
});

describe('reachability in the console (docs/REACHABILITY.md)', () => {
  const overview = (unreachableSites: StatusOverview['unreachableSites']): StatusOverview => ({
    at: '2026-12-01T00:00:00.000Z',
    holds: [],
    failures: { total: 0, items: [] },
    oldestUnsyncedChange: null,
    runs: [],
    unreachableSites,
  });

  test('the overview lists unreachable sites linked to their page, with contacts, SMS-capable and reason', () => {
    const text = unreachableSection(
      overview([
        { site: '10001/42', contacts: 2, smsCapable: 0, reason: '2 contacts: 1 landline, 1 toll-free' },
        { site: 'd&1/s 2', contacts: 0, smsCapable: 0, reason: 'no contacts' },
      ]),
    ).html;
    expect(text).toBe(
      '<h2>Unreachable sites (2)</h2>\n<table><thead><tr><th>site</th><th>contacts</th><th>SMS-capable</th><th>reason</th></tr></thead><tbody>' +
        '<tr><td><a href="/console/sites/10001/42">10001/42</a></td><td>2</td><td>0</td><td>2 contacts: 1 landline, 1 toll-free</td></tr>' +
        '<tr><td><a href="/console/sites/d%261/s%202">d&amp;1/s 2</a></td><td>0</td><td>0</td><td>no contacts</td></tr></tbody></table>',
    );
    expect(unreachableSection(overview([])).html).toBe('<h2>Unreachable sites (0)</h2>\n<p class="muted">Every enabled site has a contact CHeKT can text.</p>');
  });

  test('the site page shows SMS-capable contacts and each contact phone type, SMS-capable and reach problem', () => {
    const contact = { crm: 'live' as const, chektContactId: 'ck1', state: 'synced' as const, reason: null, syncedAt: null, pendingSince: null };
    const site: SiteStatus = {
      dealerId: '10001',
      siteId: '42',
      crmSiteId: 's1',
      name: 'Depot',
      syncEnabled: true,
      hold: null,
      counts: { synced: 3 },
      oldestUnsyncedChangeAgeSeconds: null,
      contacts: [
        { ...contact, externalContactId: 'c1', phoneType: 'mobile', smsCapable: false, reachProblem: 'CHeKT dropped the phone number it was sent' },
        { ...contact, externalContactId: 'c2', phoneType: 'fixed_line', smsCapable: false, reachProblem: null },
        { ...contact, externalContactId: 'c3', crm: 'absent', phoneType: null, smsCapable: false, reachProblem: null },
      ],
      smsCapableContacts: 0,
      reach: { contacts: 2, smsCapable: 0, phoneTypes: { mobile: 1, fixed_line: 1 }, reason: '2 contacts: 1 mobile, 1 landline, 1 whose phone CHeKT did not keep' },
    };
    const text = sitePage(site, [], false).html;
    expect(text).toContain('<div class="banner bad"><strong>Unreachable</strong>: no contact CHeKT can text (2 contacts: 1 mobile, 1 landline, 1 whose phone CHeKT did not keep).</div>');
    expect(text).toContain('<th>phone type</th><th>SMS-capable</th><th>reach problem</th>');
    expect(text).toContain(
      '<td><code>c1</code></td><td>live</td><td><span class="badge good">synced</span></td><td></td><td>mobile</td><td>no</td><td>CHeKT dropped the phone number it was sent</td><td>ck1</td>',
    );
    expect(text).toContain('<td><code>c2</code></td><td>live</td><td><span class="badge good">synced</span></td><td></td><td>fixed_line</td><td>no</td><td></td><td>ck1</td>');
    expect(text).toContain('<td><code>c3</code></td><td>absent</td><td><span class="badge good">synced</span></td><td></td><td>-</td><td>-</td><td></td><td>ck1</td>');
    const reachable = sitePage({ ...site, smsCapableContacts: 1, reach: { ...site.reach, smsCapable: 1, reason: '2 contacts: 1 mobile, 1 landline' } }, [], false).html;
    expect(reachable).toContain('<p>SMS-capable contacts: 1 of 2 (2 contacts: 1 mobile, 1 landline).</p>');
    expect(reachable).not.toContain('Unreachable');
  });
});

describe('alert payloads and delivery rules (docs/CONSOLE.md "Alerts")', () => {
  test('a body carries id, at, the facts and a one-line text naming the site as dealerId/siteId', () => {
    const body = alertBody('id-1', '2026-12-01T00:00:00.000Z', { event: 'hold.created', site: '10001/42', reason: 'r', deletes: 2, managed: 3, since: 's' });
    expect(body).toEqual({
      id: 'id-1',
      at: '2026-12-01T00:00:00.000Z',
      event: 'hold.created',
      site: '10001/42',
      reason: 'r',
      deletes: 2,
      managed: 3,
      since: 's',
      text: 'chekt-contact-sync: deletes held on site 10001/42 (2 of 3 managed contacts): r. Review and approve in the console: /console/sites/10001/42',
    });
    const many = Array.from({ length: 7 }, (_, i) => ({ site: '1/2', externalContactId: `c${i}`, kind: 'create', error: 'HTTP 400' }));
    const text = alertText({ event: 'operations.failed', total: 7, items: many, from: 'a', to: 'b' });
    expect(text).toMatch(/^chekt-contact-sync: 7 contact\(s\) failed for good: 1\/2 c0 create: HTTP 400; .*1\/2 c4 create: HTTP 400; … 2 more$/);
    expect(text).not.toContain('\n');
    expect(alertText({ event: 'site.unreachable', site: '1/2', contacts: 1, reason: '1 contact: 1 landline' })).toBe(
      'chekt-contact-sync: site 1/2 is unreachable: no contact CHeKT can text (1 contact: 1 landline). Add a mobile number in the CRM: /console/sites/1/2',
    );
    expect(alertText({ event: 'site.reachable', site: '1/2', contacts: null, smsCapable: null, reason: 'no longer synced' })).toBe(
      'chekt-contact-sync: site 1/2 is no longer reported unreachable: no longer synced.',
    );
  });

  test('the signature is the hex HMAC-SHA256 of the body; backoff doubles up to 10 minutes', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 2000))).toEqual([2000, 4000, 8000, 16_000]);
    expect(retryDelayMs(30, 2000)).toBe(600_000);
  });
});
