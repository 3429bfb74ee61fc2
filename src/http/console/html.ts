/**
 * HTML building blocks of the operator console (docs/CONSOLE.md): server-rendered, escaped, no script, and only
 * this host's stylesheet, so the pages work offline and under a strict Content-Security-Policy. Pure.
 */

/** Text escaped for HTML content and double-quoted attributes. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Markup already escaped (from {@link html} or the helpers below). */
export interface Html {
  readonly html: string;
}

/** Tagged template: interpolated values are escaped unless they are {@link Html}; arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return { html: out };
}

function render(v: unknown): string {
  if (Array.isArray(v)) return v.map(render).join('');
  if (v && typeof v === 'object' && 'html' in v) return (v as Html).html;
  if (v === null || v === undefined || v === false) return '';
  return esc(v);
}

/** A `dealerId/siteId` as a link to its console page (each part percent-encoded in the URL). */
export function siteLink(site: string): Html {
  const i = site.indexOf('/');
  const href = `/console/sites/${encodeURIComponent(site.slice(0, i))}/${encodeURIComponent(site.slice(i + 1))}`;
  return html`<a href="${href}">${site}</a>`;
}

/** A run id as a link to its console page (the first 8 characters shown). */
export function runLink(id: string): Html {
  return html`<a href="/console/runs/${encodeURIComponent(id)}" title="${id}"><code>${id.slice(0, 8)}</code></a>`;
}

/** An ISO 8601 time as "2026-12-01 10:04:05Z" (UTC), or "-". */
export function when(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : '-';
}

/** A status word as a badge; the class tells its colour (see console.css). */
export function badge(word: string): Html {
  const tone = ['completed', 'synced', 'succeeded', 'ok'].includes(word) ? 'good' : ['failed', 'completed_with_failures', 'held', 'invalid'].includes(word) ? 'bad' : 'info';
  return html`<span class="badge ${tone}">${word}</span>`;
}

/** A table, or `empty` in a paragraph when there are no rows. */
export function table(head: readonly string[], rows: readonly (readonly unknown[])[], empty: string): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** A form posting to `action` with one button (and hidden fields); the operator's only way to act. */
export function actionForm(action: string, label: string, fields: Record<string, string> = {}, tone: 'primary' | 'danger' = 'primary'): Html {
  return html`<form method="post" action="${action}">${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="${tone}">${label}</button></form>`;
}

/** The page frame: title, navigation (console pages and bull-board), who is signed in, and `body`. */
export function page(opts: { title: string; user: string; role: string; body: Html; refreshSeconds?: number }): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
<title>${opts.title} · chekt-contact-sync</title><link rel="stylesheet" href="/console/console.css"></head>
<body><header><strong>chekt-contact-sync</strong>
<nav><a href="/console">Overview</a><a href="/console/audit">Audit</a><a href="/admin/queues">Queues (bull-board)</a></nav>
<span class="who">${opts.user} · ${opts.role}</span></header>
<main><h1>${opts.title}</h1>${opts.body}</main></body></html>`.html;
}

/** The console's stylesheet (served at `/console/console.css`; system fonts only). */
export const CONSOLE_CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f5f6f8}
header{display:flex;gap:24px;align-items:center;padding:10px 24px;background:#1d2330;color:#fff}header a{color:#cfd8ff;margin-right:16px}
.who{margin-left:auto;color:#aab}main{padding:16px 24px;max-width:1200px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef0f4;font-weight:600}code{font:12px ui-monospace,monospace}.muted{color:#667}
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600}.good{background:#dff3e4;color:#17652c}
.bad{background:#fde2e1;color:#a1231b}.info{background:#e4ebfb;color:#254a9c}
.banner{padding:10px 14px;border-radius:6px;margin:8px 0}.banner.bad{background:#fde2e1}.banner.good{background:#dff3e4}
form{display:inline-block;margin:6px 8px 6px 0}button{font:inherit;padding:5px 12px;border-radius:5px;border:1px solid #254a9c;background:#2f5bd3;color:#fff;cursor:pointer}
button.danger{background:#b3261e;border-color:#8c1d17}.pager a{margin-right:12px}
`;
