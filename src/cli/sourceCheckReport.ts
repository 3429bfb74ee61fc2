import type { DataProblemKind, SourceDataReport } from '../domain/sourceReport.js';
import type { SourceCheckResult } from '../source/crm/sourceCheck.js';
import { table } from './statusReport.js';

/**
 * Output of `npm run source:check` (pure): the JSON object and the readable report (docs/SOURCE-CHECK.md#output).
 * Ids, counts and reasons only: no name, phone or e-mail reaches this module.
 */

/** The `--json` object (docs/SOURCE-CHECK.md#the-json-object). */
export interface SourceCheckJson {
  readonly exitCode: 0 | 1 | 2;
  readonly crm: { readonly database: string; readonly role: string; readonly sites: SourceCheckResult['sites']; readonly contacts: SourceCheckResult['contacts'] };
  readonly contract: { readonly holds: boolean; readonly problems: SourceCheckResult['contract'] };
  readonly readError: string | null;
  readonly data: SourceDataReport | null;
}

/** The result as the `--json` object; `database` is the CRM URL with its password hidden. */
export function toJson(r: SourceCheckResult, database: string): SourceCheckJson {
  return {
    exitCode: r.exitCode,
    crm: { database, role: r.role, sites: r.sites, contacts: r.contacts },
    contract: { holds: !r.contract.some((p) => p.severity === 'fatal'), problems: r.contract },
    readError: r.readError,
    data: r.data,
  };
}

const KIND_WORDS: Record<DataProblemKind, string> = {
  site: 'site',
  key: 'empty key',
  orphan: 'no such site',
  duplicate: 'duplicate key',
  invalid: 'invalid contact',
  no_phone: 'no usable phone',
  field: 'field dropped or changed',
  unreachable_site: 'site nobody can be texted on',
};

/** The readable report, tables at most `width` columns wide (none: cells in full). */
export function formatSourceCheck(j: SourceCheckJson, opts: { width?: number | undefined } = {}): string {
  const rel = (r: SourceCheckJson['crm']['sites']) => `${r.relation} (${r.kind ?? 'not found'})`;
  const verdict = j.exitCode === 0 ? 'OK (exit 0)' : j.exitCode === 1 ? 'DATA PROBLEMS (exit 1)' : j.readError ? 'A READ FAILED (exit 2)' : 'THE CONTRACT DOES NOT HOLD (exit 2)';
  const out = [`Source check: ${verdict}`, '', `CRM: ${j.crm.database}, role ${j.crm.role}`, `  sites:    ${rel(j.crm.sites)}`, `  contacts: ${rel(j.crm.contacts)}`, ''];
  const fatal = j.contract.problems.filter((p) => p.severity === 'fatal');
  out.push(fatal.length > 0 ? 'Contract: does not hold: nothing would be synced, the data was not read' : 'Contract: holds');
  for (const p of j.contract.problems) out.push(`  - ${p.severity === 'warning' ? 'warning: ' : ''}${p.reason}`);
  if (j.readError) out.push('', `Read failed: ${j.readError}`);
  if (j.data) out.push('', ...formatData(j.data, opts.width));
  return out.join('\n');
}

function formatData(d: SourceDataReport, width: number | undefined): string[] {
  const t = d.totals;
  const out = [
    `Sites: ${t.sites} read: ${t.enabledSites} enabled, ${t.disabledSites} disabled, ${t.invalidSites} not synced${t.invalidSites > 0 ? ' (see the problems)' : ''}`,
    `Contacts: ${t.contacts} live: ${t.valid} valid (${t.smsUsable} SMS-usable, ${t.noPhone} without a usable phone), ${t.invalid} invalid, ` +
      `${t.duplicates} with a duplicate key, ${t.orphaned} whose site is missing, ${t.onInvalidSites} on sites not synced`,
    '',
  ];
  const p = d.problems;
  if (p.total === 0) out.push('Data problems: none');
  else {
    const kinds = (Object.entries(p.byKind) as Array<[DataProblemKind, number]>).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${KIND_WORDS[k]}`);
    out.push(`Data problems: ${p.total}: ${kinds.join(', ')}`);
    out.push(
      table(
        ['kind', 'CRM site', 'external_contact_id', 'reason'],
        p.items.map((x) => [KIND_WORDS[x.kind], x.crmSiteId ?? '-', x.externalContactId ?? '-', x.reason]),
        width,
      ),
    );
    if (p.more > 0) out.push(`… and ${p.more} more (counted above, not listed)`);
  }
  out.push('', d.preview.length === 0 ? 'Preview: no sites' : `Preview: ${d.preview.length} of ${t.sites} sites (sites with a problem first; ids only)`);
  if (d.preview.length > 0) {
    const flag = (b: boolean | null) => (b === null ? 'not a flag' : b ? 'yes' : 'no');
    out.push(
      table(
        ['CRM site', 'dealer', 'site', 'enabled', 'site ok', 'contacts', 'valid', 'SMS-usable', 'no phone', 'invalid', 'duplicates'],
        d.preview.map((s) => [
          s.crmSiteId,
          s.dealerId ?? 'missing',
          s.siteId ?? 'missing',
          flag(s.syncEnabled),
          s.siteValid ? 'yes' : 'no',
          s.contacts,
          s.valid,
          s.smsUsable,
          s.noPhone,
          s.invalid,
          s.duplicates,
        ]),
        width,
      ),
    );
  }
  return out;
}
