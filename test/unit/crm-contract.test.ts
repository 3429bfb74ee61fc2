import { describeCrmFailure } from '../../src/preflight.js';
import { CONTACT_COLUMNS, SITE_COLUMNS, type ContractColumn } from '../../src/source/crm/contract.js';
import { CrmContractError } from '../../src/source/crm/database.js';
import { contractProblems, type ColumnInfo, type CrmInspection, type RelationInfo } from '../../src/source/crm/inspect.js';
import { parseRelationName, type RelationName } from '../../src/source/crm/relations.js';
import { withoutValues } from '../../src/source/crm/database.js';
import { checkCrmContract } from '../../src/source/crm/startupCheck.js';

/**
 * The contract's judgement over hand-built inspections (source/crm/inspect.ts `contractProblems`), the start-up
 * check on top of it (source/crm/startupCheck.ts) and the wording of its failures (docs/SOURCE-CHECK.md).
 */

const rel = (raw: string) => parseRelationName(raw) as RelationName;
const TYPE: Record<ContractColumn['kind'], Omit<ColumnInfo, 'selectable'>> = {
  text: { type: 'text', category: 'S' },
  boolean: { type: 'bool', category: 'B' },
  timestamp: { type: 'timestamptz', category: 'D' },
};
type Over = { columns?: Record<string, ColumnInfo | null>; writes?: string[]; schemaUsage?: boolean; missing?: boolean };

/** A relation with every contract column, of its type, selectable; `over` replaces or removes (null) columns. */
function relation(name: string, columns: readonly ContractColumn[], over: Over = {}): RelationInfo {
  if (over.missing) return { relation: rel(name), found: null };
  const cols = new Map<string, ColumnInfo>(columns.map((c) => [c.name, { ...TYPE[c.kind], selectable: true }]));
  for (const [n, info] of Object.entries(over.columns ?? {})) {
    if (info === null) cols.delete(n);
    else cols.set(n, info);
  }
  return { relation: rel(name), found: { schema: 'crm_contract', kind: 'view', schemaUsage: over.schemaUsage ?? true, writes: over.writes ?? [], columns: cols } };
}
const inspection = (sites: Over = {}, contacts: Over = {}, superuser = false): CrmInspection => ({
  role: 'crm_reader',
  superuser,
  sites: relation('crm_contract.sites', SITE_COLUMNS, sites),
  contacts: relation('crm_contract.contacts', CONTACT_COLUMNS, contacts),
});
const reasons = (i: CrmInspection) => contractProblems(i).map((p) => [p.severity, p.reason]);

describe('contractProblems', () => {
  it('every column present, of its type, selectable, no write: no problem', () => {
    expect(contractProblems(inspection())).toEqual([]);
  });

  it('both relations in one schema without USAGE: the problem is said once', () => {
    expect(reasons(inspection({ schemaUsage: false }, { schemaUsage: false }))).toEqual([['fatal', 'role crm_reader has no USAGE on schema crm_contract']]);
  });

  it('optional columns may be absent; a required one names the relation, the column and the expected type', () => {
    expect(contractProblems(inspection({ columns: { sync_enabled: null, updated_at: null } }, { columns: { deleted_at: null, updated_at: null } }))).toEqual([]);
    expect(contractProblems(inspection({}, { columns: { phone_number: null } }))).toEqual([
      { severity: 'fatal', relation: 'crm_contract.contacts', column: 'phone_number', reason: 'crm_contract.contacts has no column phone_number (text (or varchar, a number, uuid))' },
    ]);
  });

  it('a column of an unusable type names the column and the type: an array, JSON, a boolean id; usable ones pass', () => {
    const i = inspection(
      { columns: { id: { type: 'bool', category: 'B', selectable: true }, chekt_site_id: { type: 'int8', category: 'N', selectable: true } } },
      {
        columns: {
          first_name: { type: '_int4', category: 'A', display: 'integer[]', selectable: true },
          email: { type: 'jsonb', category: 'U', selectable: true },
          id: { type: 'uuid', category: 'U', selectable: true },
          deleted_at: { type: 'date', category: 'D', selectable: true },
        },
      },
    );
    expect(reasons(i)).toEqual([
      ['fatal', 'crm_contract.sites.id is of type bool; expected text (or varchar, a number, uuid)'],
      ['fatal', 'crm_contract.contacts.first_name is of type integer[]; expected text (or varchar, a number, uuid)'],
      ['fatal', 'crm_contract.contacts.email is of type jsonb; expected text (or varchar, a number, uuid)'],
    ]);
  });

  it('a missing relation names the variable, the relation and the role; no SELECT at all names relation and role', () => {
    expect(reasons(inspection({ missing: true }))).toEqual([['fatal', 'CRM_SITES_SOURCE: no table or view "crm_contract.sites" is visible to role crm_reader (missing, or no USAGE on its schema)']]);
    const none = Object.fromEntries(CONTACT_COLUMNS.map((c) => [c.name, { ...TYPE[c.kind], selectable: false }]));
    expect(reasons(inspection({}, { columns: none }))).toEqual([['fatal', 'CRM_CONTACTS_SOURCE: role crm_reader has no SELECT on crm_contract.contacts']]);
  });

  it('column-level SELECT without one required column names it; no USAGE on the schema names the schema', () => {
    expect(reasons(inspection({}, { columns: { email: { type: 'text', category: 'S', selectable: false } } }))).toEqual([
      ['fatal', 'role crm_reader has no SELECT on crm_contract.contacts (column email)'],
    ]);
    expect(reasons(inspection({ schemaUsage: false }))).toEqual([['fatal', 'role crm_reader has no USAGE on schema crm_contract']]);
  });

  it('write privileges and a superuser are warnings, after the fatal problems', () => {
    expect(reasons(inspection({ writes: ['INSERT'] }, { columns: { id: null } }, true))).toEqual([
      ['fatal', 'crm_contract.contacts has no column id (text (or varchar, a number, uuid))'],
      ['warning', 'role crm_reader can INSERT on crm_contract.sites: the service only reads; grant SELECT only (docs/CRM.md#the-read-only-role)'],
      ['warning', 'role crm_reader is a superuser: the service only reads; use a role with SELECT only (docs/CRM.md#the-read-only-role)'],
    ]);
  });
});

describe('checkCrmContract', () => {
  const logger = () => {
    const lines: Array<[unknown, string]> = [];
    return { lines, warn: (obj: unknown, msg: string) => void lines.push([obj, msg]) };
  };

  it('logs each warning with the relation and the role, and returns the inspection', async () => {
    const i = inspection({}, { writes: ['INSERT', 'UPDATE'] });
    const log = logger();
    await expect(checkCrmContract({ inspect: async () => i }, log as never)).resolves.toBe(i);
    expect(log.lines).toEqual([
      [
        { relation: 'crm_contract.contacts', role: 'crm_reader' },
        'role crm_reader can INSERT, UPDATE on crm_contract.contacts: the service only reads; grant SELECT only (docs/CRM.md#the-read-only-role)',
      ],
    ]);
  });

  it("the service's own role (CRM_DATABASE_URL unset) must write its tables: no warning about it", async () => {
    const log = logger();
    await checkCrmContract({ inspect: async () => inspection({ writes: ['INSERT'] }, {}, true) }, log as never, { serviceRole: true });
    expect(log.lines).toEqual([]);
  });

  it('throws CrmContractError naming every fatal problem', async () => {
    const none = Object.fromEntries(SITE_COLUMNS.map((c) => [c.name, { ...TYPE[c.kind], selectable: false }]));
    const err = await checkCrmContract({ inspect: async () => inspection({ columns: none }, { columns: { last_name: null } }) }, logger() as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrmContractError);
    expect((err as CrmContractError).problems).toEqual([
      'CRM_SITES_SOURCE: role crm_reader has no SELECT on crm_contract.sites',
      'crm_contract.contacts has no column last_name (text (or varchar, a number, uuid))',
    ]);
  });
});

describe('wording', () => {
  it('a CRM connection failure names the variable and the target, never the password', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    expect(describeCrmFailure(refused, 'CRM_DATABASE_URL', 'postgresql://reader:s3cret@10.0.0.5:5432/crm')).toBe(
      "CRM_DATABASE_URL: cannot reach the CRM's PostgreSQL at postgresql://reader:***@10.0.0.5:5432/crm: connection refused (nothing listens on that host and port)",
    );
    const auth = Object.assign(new Error('password authentication failed for user "reader"'), { code: '28P01' });
    expect(describeCrmFailure(auth, 'CRM_DATABASE_URL (default: DATABASE_URL)', 'postgresql://reader:s3cret@db/crm')).toBe(
      `CRM_DATABASE_URL (default: DATABASE_URL): cannot reach the CRM's PostgreSQL at postgresql://reader:***@db/crm: password authentication failed for user "reader"; check the user and password in CRM_DATABASE_URL`,
    );
    const missing = Object.assign(new Error('database "crm" does not exist'), { code: '3D000' });
    expect(describeCrmFailure(missing, 'CRM_DATABASE_URL', 'postgresql://db/crm')).toMatch(/does not exist; check the database name in CRM_DATABASE_URL$/);
    expect(describeCrmFailure(new CrmContractError(['x', 'y']), 'CRM_DATABASE_URL', 'postgresql://db/crm')).toBe('the CRM source contract does not hold (docs/CRM.md#the-contract): x; y');
  });

  it("a failing view's message keeps names and drops quoted values", () => {
    expect(withoutValues('invalid input syntax for type integer: "Amara"')).toBe('invalid input syntax for type integer: "…"');
    expect(withoutValues('value "2015550123" is out of range for type integer')).toBe('value "…" is out of range for type integer');
    expect(withoutValues('column "phone" does not exist')).toBe('column "phone" does not exist');
    expect(withoutValues('relation "crm.people" does not exist')).toBe('relation "crm.people" does not exist');
  });
});
