import { CONTACT_COLUMNS, expectedType, SITE_COLUMNS, typeUsable, type ContractColumn } from './contract.js';
import type { RelationName } from './relations.js';

/**
 * What the CRM role sees of the two contract relations, from PostgreSQL's catalogs (readable by every role, so
 * this works with nothing but `SELECT` and `USAGE`): whether each relation exists, its columns and their types,
 * and the role's privileges on it. {@link contractProblems} turns that into problems for the start-up check and
 * `npm run source:check` (docs/CRM.md#checking-the-mapping).
 */

/** A node-postgres pool, client or transaction: what the reads need. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** One column as the catalog describes it. */
export interface ColumnInfo {
  /** `pg_type.typname`, e.g. `text`, `int8`, `timestamptz`. */
  readonly type: string;
  /** `pg_type.typcategory`: S string, N numeric, B boolean, D date/time, … */
  readonly category: string;
  /** The type as SQL writes it (`format_type`), for messages: `integer[]`, `character varying(40)`. Default {@link type}. */
  readonly display?: string;
  /** The role may read it (table-level or column-level `SELECT`). */
  readonly selectable: boolean;
}

/** One relation as the CRM role sees it. */
export interface RelationInfo {
  readonly relation: RelationName;
  /** Null when no such relation is visible to the role (missing, or its schema lacks `USAGE`). */
  readonly found: null | {
    /** The schema it resolved to. */
    readonly schema: string;
    /** table | view | materialized view | foreign table | partitioned table */
    readonly kind: string;
    readonly schemaUsage: boolean;
    /** Write privileges the role holds on it (`INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`). */
    readonly writes: readonly string[];
    readonly columns: ReadonlyMap<string, ColumnInfo>;
  };
}

/** The CRM connection's role and both relations. */
export interface CrmInspection {
  readonly role: string;
  readonly superuser: boolean;
  readonly sites: RelationInfo;
  readonly contacts: RelationInfo;
}

const KINDS: Record<string, string> = { r: 'table', v: 'view', m: 'materialized view', f: 'foreign table', p: 'partitioned table' };

/**
 * Reads {@link CrmInspection} (three catalog queries per relation at most).
 * @throws the node-postgres error when the catalogs cannot be read (connection lost).
 */
export async function inspectCrm(db: Queryable, relations: { sites: RelationName; contacts: RelationName }): Promise<CrmInspection> {
  const who = await db.query<{ role: string; superuser: boolean }>('SELECT current_user AS role, COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser');
  const [sites, contacts] = [await inspectRelation(db, relations.sites), await inspectRelation(db, relations.contacts)];
  return { role: who.rows[0]!.role, superuser: who.rows[0]!.superuser, sites, contacts };
}

async function inspectRelation(db: Queryable, relation: RelationName): Promise<RelationInfo> {
  // An unqualified name resolves along the role's search_path, which omits schemas it lacks USAGE on.
  const rel = await db.query<{ oid: number; kind: string; schema: string; usage: boolean; ins: boolean; upd: boolean; del: boolean; trunc: boolean }>(
    `SELECT c.oid::int8 AS oid, c.relkind AS kind, n.nspname AS schema, has_schema_privilege(n.oid, 'USAGE') AS usage,
            has_table_privilege(c.oid, 'INSERT') AS ins, has_table_privilege(c.oid, 'UPDATE') AS upd,
            has_table_privilege(c.oid, 'DELETE') AS del, has_table_privilege(c.oid, 'TRUNCATE') AS trunc
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN unnest(current_schemas(true)) WITH ORDINALITY AS p(name, ord) ON p.name = n.nspname
      WHERE c.relname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
        AND (n.nspname = $2 OR ($2 IS NULL AND p.ord IS NOT NULL))
      ORDER BY p.ord NULLS LAST LIMIT 1`,
    [relation.name, relation.schema],
  );
  const r = rel.rows[0];
  if (!r) return { relation, found: null };
  const cols = await db.query<{ name: string; type: string; category: string; display: string; selectable: boolean }>(
    `SELECT a.attname AS name, t.typname AS type, t.typcategory AS category, format_type(a.atttypid, a.atttypmod) AS display,
            has_column_privilege(a.attrelid, a.attnum, 'SELECT') AS selectable
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped`,
    [r.oid],
  );
  const writes = [r.ins && 'INSERT', r.upd && 'UPDATE', r.del && 'DELETE', r.trunc && 'TRUNCATE'].filter((w): w is string => typeof w === 'string');
  return {
    relation,
    found: {
      schema: r.schema,
      kind: KINDS[r.kind] ?? r.kind,
      schemaUsage: r.usage,
      writes,
      columns: new Map(cols.rows.map((c) => [c.name, { type: c.type, category: c.category, display: c.display, selectable: c.selectable }])),
    },
  };
}

/**
 * A problem with the contract: `fatal` ones (a relation, a column or a privilege missing, a column of an
 * unusable type) stop the service at start-up with exit code 2 and make `source:check` exit 2; `warning`s
 * (the role can write) are reported and the service runs.
 */
export interface ContractProblem {
  readonly severity: 'fatal' | 'warning';
  /** The relation as configured, e.g. `crm_contract.contacts`. */
  readonly relation: string;
  readonly column?: string;
  readonly reason: string;
}

/** The contract's problems in `inspection`, fatal first (pure). */
export function contractProblems(inspection: CrmInspection, variables: { sites: string; contacts: string } = { sites: 'CRM_SITES_SOURCE', contacts: 'CRM_CONTACTS_SOURCE' }): ContractProblem[] {
  const out: ContractProblem[] = [];
  const check = (info: RelationInfo, columns: readonly ContractColumn[], variable: string) => {
    const relation = info.relation.display;
    const f = info.found;
    if (!f) {
      out.push({ severity: 'fatal', relation, reason: `${variable}: no table or view "${relation}" is visible to role ${inspection.role} (missing, or no USAGE on its schema)` });
      return;
    }
    if (!f.schemaUsage) out.push({ severity: 'fatal', relation, reason: `role ${inspection.role} has no USAGE on schema ${f.schema}` });
    if (![...f.columns.values()].some((c) => c.selectable)) {
      out.push({ severity: 'fatal', relation, reason: `${variable}: role ${inspection.role} has no SELECT on ${relation}` });
      return;
    }
    for (const col of columns) {
      const c = f.columns.get(col.name);
      if (!c) {
        if (col.required) out.push({ severity: 'fatal', relation, column: col.name, reason: `${relation} has no column ${col.name} (${expectedType(col.kind)})` });
        continue;
      }
      if (!typeUsable(col.kind, c.category, c.type)) {
        out.push({ severity: 'fatal', relation, column: col.name, reason: `${relation}.${col.name} is of type ${c.display ?? c.type}; expected ${expectedType(col.kind)}` });
      } else if (!c.selectable) {
        out.push({ severity: 'fatal', relation, column: col.name, reason: `role ${inspection.role} has no SELECT on ${relation} (column ${col.name})` });
      }
    }
    if (f.writes.length > 0) {
      out.push({
        severity: 'warning',
        relation,
        reason: `role ${inspection.role} can ${f.writes.join(', ')} on ${relation}: the service only reads; grant SELECT only (docs/CRM.md#the-read-only-role)`,
      });
    }
  };
  check(inspection.sites, SITE_COLUMNS, variables.sites);
  check(inspection.contacts, CONTACT_COLUMNS, variables.contacts);
  if (inspection.superuser)
    out.push({ severity: 'warning', relation: '*', reason: `role ${inspection.role} is a superuser: the service only reads; use a role with SELECT only (docs/CRM.md#the-read-only-role)` });
  // Both relations in one schema without USAGE: one problem, said once.
  const unique = out.filter((p, i) => out.findIndex((q) => q.reason === p.reason) === i);
  return unique.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'fatal' ? -1 : 1));
}

/** Which optional contract columns each relation has (the reads select NULL, or true, for the others). */
export interface CrmShape {
  readonly sites: ReadonlySet<string>;
  readonly contacts: ReadonlySet<string>;
}

/** The {@link CrmShape} of an inspection (columns present, of any type: a wrong type is a fatal problem). */
export function shapeOf(inspection: CrmInspection): CrmShape {
  const present = (info: RelationInfo) => new Set(info.found ? [...info.found.columns.keys()] : []);
  return { sites: present(inspection.sites), contacts: present(inspection.contacts) };
}
