import pg from 'pg';

/**
 * Names of the CRM relations (config `CRM_SITES_SOURCE`, `CRM_CONTACTS_SOURCE`; docs/CRM.md#the-contract), parsed
 * the way PostgreSQL reads an identifier and quoted again for SQL: a configured name is never pasted into a
 * statement as written.
 *
 * Why our own parser: node-postgres quotes identifiers (`escapeIdentifier`) but does not parse a dotted name, and
 * the rule is short (PostgreSQL docs, "Identifiers and Key Words", sql-syntax-lexical.html).
 */

/** A table or view name, at most schema-qualified. */
export interface RelationName {
  /** The schema as PostgreSQL resolves it (unquoted parts folded to lower case); null = the connection's search_path. */
  readonly schema: string | null;
  readonly name: string;
  /** Quoted for SQL: `"crm_contract"."contacts"`. */
  readonly sql: string;
  /** For messages: `crm_contract.contacts`. */
  readonly display: string;
}

/** PostgreSQL's identifier limit, in bytes (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;

const UNQUOTED = /^[A-Za-z_][A-Za-z0-9_$]*/;

/** One identifier at the start of `s`: its value and the rest, or a problem in words. */
function readIdentifier(s: string): { value: string; rest: string } | string {
  if (s.startsWith('"')) {
    let value = '';
    let i = 1;
    for (;;) {
      const q = s.indexOf('"', i);
      if (q < 0) return 'a quoted identifier is not closed';
      value += s.slice(i, q);
      if (s[q + 1] === '"') {
        value += '"';
        i = q + 2;
        continue;
      }
      if (value === '') return 'a quoted identifier is empty';
      return { value, rest: s.slice(q + 1) };
    }
  }
  const m = UNQUOTED.exec(s);
  if (!m) return `"${s.slice(0, 20)}" does not start with a letter, an underscore or a double quote`;
  return { value: m[0].toLowerCase(), rest: s.slice(m[0].length) };
}

/**
 * Parses `name` or `schema.name`; each part unquoted (`[A-Za-z_][A-Za-z0-9_$]*`, folded to lower case) or
 * double-quoted (`"Mixed Case"`, `""` for a quote). Surrounding white space is ignored.
 * @returns the relation, or the problem in words (for a config error naming the variable).
 */
export function parseRelationName(raw: string): RelationName | string {
  const parts: string[] = [];
  let rest = raw.trim();
  if (rest === '') return 'is empty';
  for (;;) {
    const part = readIdentifier(rest);
    if (typeof part === 'string') return part;
    if (Buffer.byteLength(part.value) > MAX_IDENTIFIER_BYTES) return `"${part.value.slice(0, 20)}…" is longer than ${MAX_IDENTIFIER_BYTES} bytes`;
    parts.push(part.value);
    rest = part.rest;
    if (rest === '') break;
    if (!rest.startsWith('.')) return `unexpected "${rest.slice(0, 20)}" after "${part.value}": write name or schema.name`;
    rest = rest.slice(1);
    if (parts.length === 2) return 'has more than two parts: write name or schema.name';
  }
  const [schema, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [null, parts[0]!];
  const quote = (s: string) => pg.escapeIdentifier(s);
  const shown = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : quote(s));
  return {
    schema,
    name,
    sql: schema === null ? quote(name) : `${quote(schema)}.${quote(name)}`,
    display: schema === null ? shown(name) : `${shown(schema)}.${shown(name)}`,
  };
}
