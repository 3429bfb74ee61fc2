import type { NormalizeRules } from '../../domain/contact.js';
import type { CrmShape } from './inspect.js';
import type { RelationName } from './relations.js';

/**
 * SQL text of the reads of the source contract (docs/CRM.md#the-contract). Relation names come quoted from
 * ./relations.ts and column names from ./contract.ts: nothing configured is pasted in as written. Every column is
 * selected as text (`::text`); an optional column the relation lacks reads as NULL.
 */

/** The CRM relations and the optional columns they have. */
export interface CrmRelations {
  readonly sites: RelationName;
  readonly contacts: RelationName;
}

const col = (present: ReadonlySet<string>, alias: string, name: string) => (present.has(name) ? `${alias}.${name}::text` : 'NULL::text');

/** The select list of a `sites` row (domain/crmRows.ts `RawSiteRow`), alias `s`. */
export function siteColumns(shape: CrmShape): string {
  return ['id', 'chekt_dealer_id', 'chekt_site_id', 'name', 'sync_enabled'].map((c) => `${col(shape.sites, 's', c)} AS ${c}`).join(', ');
}

/** The select list of a `contacts` row (domain/crmRows.ts `RawContactRow`), alias `c`. */
export function contactColumns(shape: CrmShape): string {
  return ['id', 'site_id', 'first_name', 'last_name', 'phone_number', 'email', 'deleted_at'].map((c) => `${col(shape.contacts, 'c', c)} AS ${c}`).join(', ');
}

/** SQL condition: the contact row `c` is live (no `deleted_at`, or NULL or empty). */
export function liveCondition(shape: CrmShape): string {
  return shape.contacts.has('deleted_at') ? `(c.deleted_at IS NULL OR c.deleted_at::text = '')` : 'true';
}

/**
 * The rules part of the fingerprint: changing `PHONE_DEFAULT_REGION`, `PHONE_FORMAT` or
 * `CONTACT_MAX_NAME_LENGTH` changes what CHeKT should hold, so every contact is planned again once. The version
 * changes with the rules themselves (v2: phone extensions are no longer sent).
 */
export function rulesKey(rules: NormalizeRules): string {
  return `|v2|${rules.defaultRegion}|${rules.phoneFormat}|${rules.maxNameLength}|${rules.maxEmailLength}`;
}

/**
 * SQL of a contact row's fingerprint (alias `c`), with the rules key as parameter `$n`: md5 of the synced
 * columns as a row, so NULL and '' stay apart (`(a,)` against `(a,"")`) and clearing a field is a change.
 * The same text as before the source contract for text columns (`x::text` of a text is itself), so ledgers
 * written then keep matching.
 */
export function fingerprintSql(param: number): string {
  return `md5(ROW(c.first_name::text, c.last_name::text, c.phone_number::text, c.email::text)::text || $${param}::text)`;
}
