import type { Health } from '../../domain/health.js';
import type { RunDetailJson } from '../../domain/runReport.js';
import type { AuditItem } from '../../source/audit.js';
import type { HeldDelete } from '../../source/readModel/holds.js';
import type { StatusOverview } from '../../source/readModel/overview.js';
import type { SiteStatus } from '../../source/readModel/siteState.js';
import { actionForm, badge, html, runLink, siteLink, table, when, type Html } from './html.js';
import { siteKey } from '../../domain/site.js';

/**
 * The console's pages (docs/CONSOLE.md "Pages"), as HTML bodies. Ids, states and reasons only, as the API:
 * never a contact's name, phone or email. `canAct` (the operator) decides whether action buttons are drawn;
 * the server refuses the viewer's writes anyway (http/auth.ts).
 */

const sitePath = (dealerId: string, siteId: string) => `/console/sites/${encodeURIComponent(dealerId)}/${encodeURIComponent(siteId)}`;

/** The health banner: what makes `npm run status` exit 1. */
function healthBanner(h: Health): Html {
  return h.healthy
    ? html`<div class="banner good">Healthy: no site on hold, no contact failed for good, nothing behind by more than ${h.behindSeconds} s.</div>`
    : html`<div class="banner bad"><strong>Needs an operator</strong><ul>${h.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`;
}

/**
 * Enabled sites without a contact CHeKT can text (docs/REACHABILITY.md), from the same status read as
 * `npm run status` (`unreachableSites`): site, live contacts, SMS-capable ones (0) and the reason in words.
 */
export function unreachableSection(status: StatusOverview): Html {
  const rows = status.unreachableSites;
  return html`<h2>Unreachable sites (${rows.length})</h2>
${table(
  ['site', 'contacts', 'SMS-capable', 'reason'],
  rows.map((u) => [siteLink(u.site), u.contacts, u.smsCapable, u.reason]),
  'Every enabled site has a contact CHeKT can text.',
)}`;
}

/** `/console`: health, holds, unreachable sites, failed contacts, the oldest unsynced change, the last runs. */
export function overviewPage(o: StatusOverview, health: Health, canAct: boolean): Html {
  const u = o.oldestUnsyncedChange;
  return html`${healthBanner(health)}
<h2>Sites on hold (${o.holds.length})</h2>
${table(
  ['site', 'reason', 'deletes/managed', 'since', ''],
  o.holds.map((h) => [siteLink(h.site), h.reason, `${h.deletes}/${h.managed}`, when(h.heldAt), html`<a href="${siteLinkHref(h.site)}">${canAct ? 'review and approve' : 'details'}</a>`]),
  'No site is on hold.',
)}
${unreachableSection(o)}
<h2>Failed contacts (${o.failures.total})</h2>
${table(
  ['site', 'external_contact_id', 'kind', 'reason', 'when'],
  o.failures.items.map((f) => [siteLink(f.site), html`<code>${f.externalContactId}</code>`, f.kind ?? '-', f.reason ?? '-', when(f.at)]),
  'No contact failed for good.',
)}
<h2>Oldest change not yet in CHeKT</h2>
${u ? table(['site', 'external_contact_id', 'age (s)', 'since'], [[siteLink(u.site), html`<code>${u.externalContactId}</code>`, u.ageSeconds, when(u.since)]], '') : html`<p class="muted">None: every planned change is applied.</p>`}
<h2>Last runs</h2>
${runsTable(o.runs)}`;
}

function siteLinkHref(site: string): string {
  const i = site.indexOf('/');
  return sitePath(site.slice(0, i), site.slice(i + 1));
}

function runsTable(runs: StatusOverview['runs']): Html {
  return table(
    ['run', 'trigger', 'mode', 'status', 'started', 'planned c/u/d', 'failed', 'held sites'],
    runs.map((r) => [
      runLink(r.id),
      r.trigger,
      `${r.mode}${r.dryRun ? ' (dry run)' : ''}`,
      badge(r.status),
      when(r.startedAt),
      r.totals ? `${r.totals.creates ?? 0}/${r.totals.updates ?? 0}/${r.totals.deletes ?? 0}` : '-',
      r.failures,
      r.held,
    ]),
    'No run yet.',
  );
}

/** `/console/sites/:dealerId/:siteId`: the CRM site, its hold with the deletes an approval runs, every contact. */
export function sitePage(s: SiteStatus, held: readonly HeldDelete[], canAct: boolean): Html {
  const base = sitePath(s.dealerId, s.siteId);
  const failed = s.contacts.filter((c) => c.state === 'failed').length;
  const hold = s.hold
    ? html`<div class="banner bad"><strong>Deletes on hold</strong> since ${when(s.hold.heldAt)}: ${s.hold.reason} (${s.hold.deletes}/${s.hold.managed} deletes/managed)${s.hold.runId ? html`, held by run ${runLink(s.hold.runId)}` : ''}.</div>
<h2>Deletes an approval runs (${held.length})</h2>
${table(
  ['external_contact_id', 'CHeKT contact_id', 'reason'],
  held.map((d) => [html`<code>${d.externalContactId}</code>`, d.chektContactId ?? '-', d.reason ?? '-']),
  'No held delete is recorded; an approval reconciles the site and makes the deletes it then plans.',
)}
${canAct ? actionForm(`${base}/approve`, `Approve ${held.length} delete(s) of ${siteKey(s)}`, {}, 'danger') : ''}`
    : html`<p>No deletion hold.</p>`;
  const actions = canAct
    ? html`<h2>Actions</h2>${actionForm(`${base}/resync`, 'Preview a resync (dry run)', { dryRun: 'true' })}${failed > 0 ? actionForm(`${base}/retry`, `Retry ${failed} failed contact(s)`) : ''}`
    : '';
  const counts =
    Object.entries(s.counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const reach =
    s.syncEnabled && s.smsCapableContacts === 0
      ? html`<div class="banner bad"><strong>Unreachable</strong>: no contact CHeKT can text (${s.reach.reason}).</div>`
      : html`<p>SMS-capable contacts: ${s.smsCapableContacts} of ${s.reach.contacts} (${s.reach.reason}).</p>`;
  return html`<p>CRM site <code>${s.crmSiteId}</code> “${s.name}”${s.syncEnabled ? '' : html` · <span class="badge bad">sync_enabled is false</span>`} · contacts: ${counts}${s.oldestUnsyncedChangeAgeSeconds !== null ? ` · oldest unsynced change ${s.oldestUnsyncedChangeAgeSeconds} s old` : ''}</p>
${reach}${hold}${actions}
<h2>Contacts (${s.contacts.length})</h2>
${table(
  ['external_contact_id', 'crm', 'state', 'reason', 'phone type', 'SMS-capable', 'reach problem', 'CHeKT contact_id', 'synced', 'pending since'],
  s.contacts.map((c) => [
    html`<code>${c.externalContactId}</code>`,
    c.crm,
    badge(c.state),
    c.reason ?? '',
    c.phoneType ?? '-',
    c.crm === 'live' ? (c.smsCapable ? 'yes' : 'no') : '-',
    c.reachProblem ?? '',
    c.chektContactId ?? '-',
    when(c.syncedAt),
    when(c.pendingSince),
  ]),
  'No contact.',
)}
<p class="muted">Site API: <a href="/api/sites/${encodeURIComponent(s.dealerId)}/${encodeURIComponent(s.siteId)}">JSON</a></p>`;
}

/**
 * `/console/runs/:id`: totals, held sites, failures and a page of per-contact outcomes; a dry run offers the real
 * run. Drawn from the object `GET /api/runs/:id` answers (domain/runReport.ts `toRunDetailJson`).
 */
export function runPage(r: RunDetailJson, canAct: boolean): Html {
  const kinds = ['create', 'update', 'delete'];
  const outcomes = ['succeeded', 'failed', 'skipped', 'held', 'queued', 'planned'];
  const ops = r.operations;
  const next = ops.offset + ops.limit < ops.total ? html`<a href="?opsOffset=${ops.offset + ops.limit}">next ${ops.limit} →</a>` : '';
  const prev = ops.offset > 0 ? html`<a href="?opsOffset=${Math.max(0, ops.offset - ops.limit)}">← previous</a>` : '';
  const oneSite = ops.items.length > 0 && new Set(ops.items.map((o) => siteKey(o))).size === 1 ? ops.items[0] : undefined;
  const realRun =
    canAct && r.dryRun && oneSite && ['completed', 'completed_with_failures', 'held'].includes(r.status)
      ? actionForm(`${sitePath(oneSite.dealerId, oneSite.siteId)}/resync`, `Run this resync of ${siteKey(oneSite)} for real`, { dryRun: 'false' })
      : '';
  return html`<p>${badge(r.status)} · trigger ${r.trigger} · mode ${r.mode}${r.dryRun ? ' · dry run: nothing written' : ''}${r.approveDeletes ? ' · deletes approved' : ''} · started ${when(r.startedAt)}${r.durationMs !== null ? ` · ${(r.durationMs / 1000).toFixed(1)} s` : ''}</p>
${r.error ? html`<div class="banner bad">${r.error}</div>` : ''}
${r.summaryProblems ? html`<div class="banner bad">The stored plan summary could not be read in full; these parts are shown as absent:<ul>${r.summaryProblems.map((p) => html`<li><code>${p}</code></li>`)}</ul></div>` : ''}
${realRun}
<h2>Totals</h2>
${table(
  ['operation', ...outcomes],
  kinds.map((k) => [k, ...outcomes.map((o) => r.counts[k]?.[o] ?? 0)]),
  '',
)}
<h2>Held sites (${r.held.length})</h2>
${table(
  ['site', 'reason', 'deletes/managed'],
  r.held.map((h) => [siteLink(h.site), h.reason, `${h.deletes}/${h.managed}`]),
  'None.',
)}
<h2>Operations (${ops.total}; ${ops.offset + 1}–${Math.min(ops.total, ops.offset + ops.limit)})</h2>
${table(
  ['site', 'external_contact_id', 'kind', 'applied', 'reason', 'outcome', 'error', 'attempts'],
  ops.items.map((o) => [siteLink(siteKey(o)), html`<code>${o.externalContactId}</code>`, o.kind, o.appliedKind ?? '-', o.reason ?? '-', badge(o.outcome), o.error ?? '', o.attempts]),
  'No operation.',
)}
<p class="pager">${prev}${next}</p>
<p class="muted">Run API: <a href="/api/runs/${encodeURIComponent(r.runId)}">JSON</a></p>`;
}

/** `/console/audit`: operator actions, newest first. */
export function auditPage(items: readonly AuditItem[], nextCursor: string | null): Html {
  return html`${table(
    ['at', 'actor', 'role', 'action', 'target', 'parameters', 'outcome', 'detail'],
    items.map((a) => [when(a.at), a.actor, a.role, html`<code>${a.action}</code>`, a.target, html`<code>${JSON.stringify(a.params)}</code>`, badge(a.outcome), a.detail ?? '']),
    'No operator action recorded yet.',
  )}
${nextCursor ? html`<p class="pager"><a href="?before=${nextCursor}">older →</a></p>` : ''}`;
}
