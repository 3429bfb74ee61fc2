/**
 * The source contract (docs/CRM.md#the-contract): the columns the service reads from the CRM's two relations,
 * and which PostgreSQL types it can use for each. Every value is read as text (`::text`) and checked row by row
 * (domain/crmRows.ts), so a column of a usable type other than text (an integer id, a varchar) works as it is;
 * a column of an unusable type (an array, JSON, bytea, a boolean name) breaks the contract: nothing is planned
 * and `npm run source:check` names it.
 */

/**
 * What a column holds: `text` (any string or number type, or uuid), `boolean` (`sync_enabled`: boolean, or text
 * or a number read as a flag) and `timestamp` (timestamptz, timestamp or date, or text).
 */
export type ColumnKind = 'text' | 'boolean' | 'timestamp';

/** One column of the contract. */
export interface ContractColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  /** False: the relation may lack it (`sync_enabled` absent = true; `deleted_at` absent = never deleted). */
  readonly required: boolean;
}

/** Columns of the sites relation (`CRM_SITES_SOURCE`). */
export const SITE_COLUMNS = [
  { name: 'id', kind: 'text', required: true },
  { name: 'chekt_dealer_id', kind: 'text', required: true },
  { name: 'chekt_site_id', kind: 'text', required: true },
  { name: 'name', kind: 'text', required: true },
  { name: 'sync_enabled', kind: 'boolean', required: false },
  { name: 'updated_at', kind: 'timestamp', required: false },
] as const satisfies readonly ContractColumn[];

/** Columns of the contacts relation (`CRM_CONTACTS_SOURCE`); the key is (`site_id`, `id`). */
export const CONTACT_COLUMNS = [
  { name: 'id', kind: 'text', required: true },
  { name: 'site_id', kind: 'text', required: true },
  { name: 'first_name', kind: 'text', required: true },
  { name: 'last_name', kind: 'text', required: true },
  { name: 'phone_number', kind: 'text', required: true },
  { name: 'email', kind: 'text', required: true },
  { name: 'deleted_at', kind: 'timestamp', required: false },
  { name: 'updated_at', kind: 'timestamp', required: false },
] as const satisfies readonly ContractColumn[];

/** A column name of the sites or contacts relation. */
export type SiteColumn = (typeof SITE_COLUMNS)[number]['name'];
export type ContactColumn = (typeof CONTACT_COLUMNS)[number]['name'];

/**
 * PostgreSQL type categories (`pg_type.typcategory`) usable for each kind: S string, N numeric, B boolean,
 * D date/time; uuid (category U) is allowed by name for `text`.
 */
const USABLE: Record<ColumnKind, { readonly categories: string; readonly types: readonly string[] }> = {
  text: { categories: 'SN', types: ['uuid'] },
  boolean: { categories: 'BSN', types: [] },
  timestamp: { categories: 'DS', types: [] },
};

/** Whether a column of type `typeName` (`pg_type.typname`) in `category` can hold a `kind` value. */
export function typeUsable(kind: ColumnKind, category: string, typeName: string): boolean {
  if (typeName.startsWith('_')) return false; // an array
  const usable = USABLE[kind];
  return usable.categories.includes(category) || usable.types.includes(typeName);
}

/** What a column of the contract is expected to be, for messages: "text", "boolean", "timestamptz". */
export function expectedType(kind: ColumnKind): string {
  return kind === 'text' ? 'text (or varchar, a number, uuid)' : kind === 'boolean' ? 'boolean' : 'timestamptz (or timestamp, date)';
}
