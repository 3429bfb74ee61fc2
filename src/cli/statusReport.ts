import Table from 'cli-table3';
import type { StatusOverview } from '../source/readModel/overview.js';
import type { SiteStatus } from '../source/readModel/siteState.js';
import { siteKey } from '../domain/site.js';

/**
 * Terminal rendering of `npm run status` (pure). Tables are drawn without colours, so the output reads the
 * same in a terminal, a pipe or a log. Ids, states and reasons only: no personal data reaches this module.
 */

/** Options of {@link formatOverview} and {@link formatSite}. */
export interface FormatOptions {
  /** Widest a table may be, in terminal columns (the terminal's width); default: as wide as its cells. */
  readonly width?: number | undefined;
}

/**
 * Column widths (text only, without padding or borders) that fit `available` characters: every column keeps
 * its natural width when they all fit; otherwise the widest columns are narrowed to one common cap (water
 * filling), never below a floor per column, the first of these that fits: each column's longest word (`words`,
 * so ids and times stay whole and only text wraps); the longest word but at most 12 (a long id is cut, short
 * words stay whole); short words whole and long ones down to 6; `min(natural, 6)`. Pure; the sum may exceed `available` only when even the last floors do.
 */
export function fitColumns(natural: readonly number[], available: number, words: readonly number[] = []): number[] {
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  if (sum(natural) <= available) return [...natural];
  const minimal = natural.map((n) => Math.min(n, 6));
  const whole = (i: number) => Math.max(minimal[i]!, Math.min(natural[i]!, words[i] ?? 0));
  const floors = [natural.map((_, i) => whole(i)), natural.map((_, i) => Math.min(whole(i), Math.max(minimal[i]!, 12))), natural.map((_, i) => ((words[i] ?? 0) <= 12 ? whole(i) : minimal[i]!))];
  const floor = floors.find((f) => sum(f) <= available) ?? minimal;
  let lo = 0;
  let hi = Math.max(...natural);
  // The largest cap whose capped widths fit.
  while (lo < hi) {
    const cap = Math.ceil((lo + hi) / 2);
    const sum = natural.reduce((a, n, i) => a + Math.max(floor[i]!, Math.min(n, cap)), 0);
    if (sum <= available) lo = cap;
    else hi = cap - 1;
  }
  return natural.map((n, i) => Math.max(floor[i]!, Math.min(n, lo)));
}

/**
 * A table without colour codes, at most `width` columns wide: long cells wrap at word boundaries, and a word
 * longer than its column ends in an ellipsis (`--json` has the full text). Also `npm run source:check`'s tables.
 */
export function table(head: string[], rows: Array<Array<string | number>>, width?: number): string {
  const cells = rows.map((r) => r.map(String));
  const len = (s: string) => [...s].length;
  const natural = head.map((h, i) => Math.max(len(h), ...cells.map((r) => len(r[i] ?? ''))));
  const words = head.map((h, i) => Math.max(...[h, ...cells.map((r) => r[i] ?? '')].flatMap((c) => c.split(/\s+/).map(len))));
  // cli-table3 adds one space of padding on each side of a cell and one border character between columns.
  const available = width === undefined ? Infinity : width - (head.length + 1) - 2 * head.length;
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true, colWidths: fitColumns(natural, available, words).map((w) => w + 2) });
  for (const r of cells) t.push(r);
  return t.toString();
}

/** Seconds as "45 s", "12 min 5 s", "3 h 12 min" or "2 d 4 h". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** "2026-12-01 10:04:05Z" from an ISO 8601 time (UTC, to the second). */
function when(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : '-';
}

/** The overview: holds, recent failures, the oldest unsynced change and the last runs. */
export function formatOverview(o: StatusOverview, opts: FormatOptions = {}): string {
  const out: string[] = [];
  out.push(o.holds.length === 0 ? 'Sites on hold: none' : `Sites on hold (${o.holds.length}): deletes wait for \`npm run sync -- --site <d/s> --approve-deletes\``);
  if (o.holds.length > 0)
    out.push(
      table(
        ['site', 'reason', 'deletes/managed', 'since'],
        o.holds.map((h) => [h.site, h.reason, `${h.deletes}/${h.managed}`, when(h.heldAt)]),
        opts.width,
      ),
    );
  const u0 = o.unreachableSites;
  out.push(
    '',
    u0.length === 0
      ? 'Unreachable sites: none (every enabled site has a contact CHeKT can text)'
      : `UNREACHABLE sites (${u0.length}): no contact can receive CHeKT's verification text (docs/REACHABILITY.md)`,
  );
  if (u0.length > 0)
    out.push(
      table(
        ['site', 'contacts', 'SMS-capable', 'reason'],
        u0.map((x) => [x.site, x.contacts, x.smsCapable, x.reason]),
        opts.width,
      ),
    );
  const f = o.failures;
  out.push('', f.total === 0 ? 'Failed contacts: none' : `Failed contacts (${f.total}${f.total > f.items.length ? `, latest ${f.items.length}` : ''}):`);
  if (f.items.length > 0)
    out.push(
      table(
        ['site', 'external_contact_id', 'kind', 'reason', 'when'],
        f.items.map((x) => [x.site, x.externalContactId, x.kind ?? '-', x.reason ?? '-', when(x.at)]),
        opts.width,
      ),
    );
  const u = o.oldestUnsyncedChange;
  out.push('', u ? 'Oldest unsynced change:' : 'Oldest unsynced change: none (every planned change is applied)');
  if (u) out.push(table(['site', 'external_contact_id', 'age', 'since'], [[u.site, u.externalContactId, formatAge(u.ageSeconds), when(u.since)]], opts.width));
  out.push('', o.runs.length === 0 ? 'Last runs: none' : `Last runs (${o.runs.length}):`);
  if (o.runs.length > 0) {
    out.push(
      table(
        ['id', 'trigger', 'mode', 'status', 'started', 'planned c/u/d', 'failed', 'held sites'],
        o.runs.map((r) => [
          r.id,
          r.trigger,
          `${r.mode}${r.dryRun ? ' (dry run)' : ''}`,
          r.status,
          when(r.startedAt),
          r.totals ? `${r.totals.creates ?? 0}/${r.totals.updates ?? 0}/${r.totals.deletes ?? 0}` : '-',
          r.failures,
          r.held,
        ]),
        opts.width,
      ),
    );
  }
  return out.join('\n');
}

/** One site: CRM row, hold, counts per state and every contact's state. */
export function formatSite(s: SiteStatus, opts: FormatOptions = {}): string {
  const out: string[] = [];
  out.push(`Site ${siteKey(s)} (CRM ${s.crmSiteId}, "${s.name}")${s.syncEnabled ? '' : ': sync_enabled is false'}`);
  out.push(s.hold ? `  deletes held since ${when(s.hold.heldAt)}: ${s.hold.reason} (${s.hold.deletes}/${s.hold.managed} deletes/managed)` : '  no deletion hold');
  const counts = Object.entries(s.counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  out.push(`  contacts: ${counts || 'none'}`);
  out.push(s.smsCapableContacts === 0 ? `  UNREACHABLE: no contact can receive CHeKT's verification text (${s.reach.reason})` : `  SMS-capable contacts: ${s.smsCapableContacts} (${s.reach.reason})`);
  if (s.oldestUnsyncedChangeAgeSeconds !== null) out.push(`  oldest unsynced change: ${formatAge(s.oldestUnsyncedChangeAgeSeconds)} ago`);
  if (s.contacts.length > 0) {
    out.push(
      table(
        ['external_contact_id', 'crm', 'state', 'reason', 'phone type', 'SMS', 'CHeKT contact_id', 'synced', 'pending since'],
        s.contacts.map((c) => [
          c.externalContactId,
          c.crm,
          c.state,
          [c.reason, c.reachProblem].filter(Boolean).join('; '),
          c.phoneType ?? '-',
          c.phoneType === null ? '-' : c.smsCapable ? 'yes' : 'no',
          c.chektContactId ?? '-',
          when(c.syncedAt),
          when(c.pendingSince),
        ]),
        opts.width,
      ),
    );
  }
  return out.join('\n');
}
