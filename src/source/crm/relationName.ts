import pg from 'pg';

/**
 * Names of the partner's relations (tables and views) as a user types them: `contacts`, `crm_contract.contacts`,
 * `"Sales"."Contacts"`. Pure. A name is parsed as PostgreSQL reads it, then only ever written back quoted as an
 * identifier ({@link quoteRelation}, pg's `escapeIdentifier`): input is never pasted into SQL.
 */

/**
 * A relation's name as PostgreSQL resolves it: `schema` (absent: found through the session's `search_path`) and
 * `name`, unquoted parts folded to lower case as PostgreSQL folds them (`Sites` is `sites`, `"Sites"` is `Sites`).
 */
export interface RelationName {
  readonly schema?: string;
  readonly name: string;
}

/** A name that is not one or two identifiers; the message says what is wrong, quoting the input. */
export class RelationNameError extends Error {
  override readonly name = 'RelationNameError';
}

/** PostgreSQL's identifier limit, in bytes (NAMEDATALEN - 1): longer names are cut, silently naming another relation. */
const MAX_IDENTIFIER_BYTES = 63;
const UNQUOTED = /^[A-Za-z_][A-Za-z0-9_$]*/;

/**
 * Parses `[schema.]name`, each part an unquoted identifier (`[A-Za-z_][A-Za-z0-9_$]*`, folded to lower case) or a
 * double-quoted one (`""` inside stands for `"`), at most 63 bytes.
 * @throws {RelationNameError} for an empty name or part, three parts or more, any other character (a space, `;`),
 *   an unterminated quote, or a part longer than 63 bytes.
 */
export function parseRelationName(raw: string): RelationName {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    const [part, end] = readIdentifier(raw, at);
    parts.push(part);
    at = end;
    if (at === raw.length) break;
    if (raw[at] !== '.') throw new RelationNameError(`invalid name "${raw}": unexpected "${raw[at]}" at character ${at + 1} (expected [schema.]name)`);
    if (parts.length === 2) throw new RelationNameError(`invalid name "${raw}": more than two parts (expected [schema.]name)`);
    at += 1;
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { name: parts[0]! };
}

/** Reads one identifier of `raw` starting at `at`; returns it and the index after it. */
function readIdentifier(raw: string, at: number): [string, number] {
  let value: string;
  let end: number;
  if (raw[at] === '"') {
    value = '';
    end = at + 1;
    for (;;) {
      const close = raw.indexOf('"', end);
      if (close < 0) throw new RelationNameError(`invalid name "${raw}": unterminated quoted identifier`);
      value += raw.slice(end, close);
      if (raw[close + 1] !== '"') {
        end = close + 1;
        break;
      }
      value += '"';
      end = close + 2;
    }
    if (value === '') throw new RelationNameError(`invalid name "${raw}": an empty quoted identifier`);
    if (value.includes('\0')) throw new RelationNameError(`invalid name "${raw}": a NUL character`);
  } else {
    const m = UNQUOTED.exec(raw.slice(at));
    if (!m) {
      const what = at === raw.length || raw[at] === '.' ? 'a part is empty' : `unexpected "${raw[at]}" at character ${at + 1}`;
      throw new RelationNameError(`invalid name "${raw}": ${what} (a part is a letter or _ then letters, digits, _ or $, or is "double-quoted")`);
    }
    value = m[0].toLowerCase();
    end = at + m[0].length;
  }
  if (Buffer.byteLength(value) > MAX_IDENTIFIER_BYTES) throw new RelationNameError(`invalid name "${raw}": "${value}" is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  return [value, end];
}

/** The name as SQL, every part quoted as an identifier: `"crm_contract"."contacts"`. */
export function quoteRelation(r: RelationName): string {
  return r.schema === undefined ? pg.escapeIdentifier(r.name) : `${pg.escapeIdentifier(r.schema)}.${pg.escapeIdentifier(r.name)}`;
}

/** The name for messages, quoted only where PostgreSQL needs it: `crm_contract.contacts`, `"Sales"."Contacts"`. */
export function formatRelation(r: RelationName): string {
  const part = (p: string) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : pg.escapeIdentifier(p));
  return r.schema === undefined ? part(r.name) : `${part(r.schema)}.${part(r.name)}`;
}
