import { describe, expect, test } from '@jest/globals';
import { alertBody, alertText } from '../../src/alerts/events.js';
import { retryDelayMs, signBody } from '../../src/alerts/deliver.js';
import { esc, html, page, siteLink } from '../../src/http/console/html.js';

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

describe('alert payloads and delivery rules (docs/CONSOLE.md "Alerts")', () => {
  test('a body carries id, at, the facts and a one-line text naming the site as dealerId/siteId', () => {
    const body = alertBody('id-1', '2026-12-01T00:00:00.000Z', { event: 'hold.created', site: '10001/42', reason: 'r', deletes: 2, managed: 3, since: 's' });
    expect(body).toEqual({
      id: 'id-1', at: '2026-12-01T00:00:00.000Z', event: 'hold.created', site: '10001/42', reason: 'r', deletes: 2, managed: 3, since: 's',
      text: 'chekt-contact-sync: deletes held on site 10001/42 (2 of 3 managed contacts): r. Review and approve in the console: /console/sites/10001/42',
    });
    const many = Array.from({ length: 7 }, (_, i) => ({ site: '1/2', externalContactId: `c${i}`, kind: 'create', error: 'HTTP 400' }));
    const text = alertText({ event: 'operations.failed', total: 7, items: many, from: 'a', to: 'b' });
    expect(text).toMatch(/^chekt-contact-sync: 7 contact\(s\) failed for good: 1\/2 c0 create: HTTP 400; .*1\/2 c4 create: HTTP 400; … 2 more$/);
    expect(text).not.toContain('\n');
  });

  test('the signature is the hex HMAC-SHA256 of the body; backoff doubles up to 10 minutes', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 2000))).toEqual([2000, 4000, 8000, 16_000]);
    expect(retryDelayMs(30, 2000)).toBe(600_000);
  });
});
