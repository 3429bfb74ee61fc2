import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadCrmAdminUrl } from '../../src/config.js';
import { describeStepError } from '../../src/source/crm/applyTriggers.js';
import { parseRelationName, type RelationName } from '../../src/source/crm/relations.js';
import { planTriggers, renderTriggerScript } from '../../src/source/crm/triggers.js';

/** Relation names as typed (src/source/crm/relations.ts) and the NOTIFY trigger SQL (docs/CRM.md#notify-triggers-opt-in); no I/O. */

/** The name `raw` stands for; fails the test when it is refused. */
function rel(raw: string): RelationName {
  const r = parseRelationName(raw);
  if (typeof r === 'string') throw new Error(`${raw}: ${r}`);
  return r;
}

describe('table names (source/crm/relations.ts, shared with CRM_SITES_SOURCE and CRM_CONTACTS_SOURCE)', () => {
  it('one or two parts, unquoted ones folded to lower case, quoted ones as written; quoted again for SQL', () => {
    expect(rel('CRM_Contract.Contacts')).toEqual({ schema: 'crm_contract', name: 'contacts', sql: '"crm_contract"."contacts"', display: 'crm_contract.contacts' });
    expect(rel('"Sales"."Contacts"')).toMatchObject({ schema: 'Sales', name: 'Contacts', sql: '"Sales"."Contacts"' });
    expect(rel('"a""b".c')).toMatchObject({ schema: 'a"b', sql: '"a""b"."c"', display: '"a""b".c' });
    expect(rel('contacts')).toMatchObject({ schema: null, sql: '"contacts"' });
  });

  it.each([
    ['', /is empty/],
    ['a;drop', /unexpected ";drop" after "a"/],
    ['a;drop table x', /unexpected ";drop table x" after "a"/],
    ['a.b.c', /more than two parts/],
    ['a.', /does not start with a letter/],
    ['1abc', /does not start with a letter/],
    ['""', /quoted identifier is empty/],
    ['"open', /not closed/],
    ['x'.repeat(64), /longer than 63 bytes/],
  ])('refuses %j', (raw, why) => {
    expect(parseRelationName(raw)).toMatch(why);
  });
});

describe('planTriggers and renderTriggerScript', () => {
  const tables = ['cs.accounts', 'cs.people', 'CS.Accounts'].map(rel);

  it('one function in the first table schema, then per table (each once) a drop and a statement-level create', () => {
    const plan = planTriggers(tables);
    expect(plan.schema).toBe('cs');
    expect(plan.fn).toBe('cs.chekt_contact_sync_notify');
    expect(plan.tables.map((t) => t.display)).toEqual(['cs.accounts', 'cs.people']);
    expect(plan.steps.map((s) => s.kind)).toEqual(['function', 'drop-trigger', 'create-trigger', 'drop-trigger', 'create-trigger']);
    expect(plan.steps[0]!.sql).toBe(
      [
        'CREATE OR REPLACE FUNCTION "cs"."chekt_contact_sync_notify"() RETURNS trigger LANGUAGE plpgsql AS $$',
        'BEGIN',
        "  PERFORM pg_catalog.pg_notify('chekt_contact_sync', '*' || TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);",
        '  RETURN NULL;',
        'END',
        '$$;',
      ].join('\n'),
    );
    expect(plan.steps[1]!.sql).toBe('DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "cs"."accounts";');
    expect(plan.steps[2]!.sql).toBe(
      'CREATE TRIGGER "chekt_contact_sync_notify" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "cs"."accounts"\n  FOR EACH STATEMENT EXECUTE FUNCTION "cs"."chekt_contact_sync_notify"();',
    );
    expect(plan.removal).toEqual([
      'DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "cs"."accounts";',
      'DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "cs"."people";',
      'DROP FUNCTION IF EXISTS "cs"."chekt_contact_sync_notify"();',
    ]);
  });

  it('the function goes to --schema when given, else public for an unqualified first table', () => {
    const audit = planTriggers(tables, 'Audit Trail');
    expect(audit.steps[0]!.sql).toContain('FUNCTION "Audit Trail"."chekt_contact_sync_notify"()');
    expect(audit.fn).toBe('"Audit Trail".chekt_contact_sync_notify');
    const plan = planTriggers([rel('contacts'), rel('crm.sites')]);
    expect(plan.schema).toBe('public');
    expect(plan.steps[1]!.sql).toBe('DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "contacts";');
  });

  it('a hostile quoted name stays one identifier', () => {
    const plan = planTriggers([rel('"x"";drop table y;--"')]);
    expect(plan.steps[1]!.sql).toBe('DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "x"";drop table y;--";');
  });

  it('refuses no table at all', () => {
    expect(() => planTriggers([])).toThrow(/no table given/);
  });

  it('the script: a header, the steps in one transaction, the removal commented out', () => {
    const script = renderTriggerScript(planTriggers(tables));
    const lines = script.split('\n');
    expect(lines.filter((l) => l === 'BEGIN;' || l === 'COMMIT;')).toEqual(['BEGIN;', 'COMMIT;']);
    expect(lines.filter((l) => !l.startsWith('--')).join('\n')).toMatch(
      /^BEGIN;\n\nCREATE OR REPLACE FUNCTION[\s\S]*"cs"\."people"\n {2}FOR EACH STATEMENT EXECUTE FUNCTION "cs"\."chekt_contact_sync_notify"\(\);\n\nCOMMIT;\n\n$/,
    );
    const removal = lines.slice(lines.indexOf('-- to remove:'));
    expect(removal).toEqual([
      '-- to remove:',
      '-- BEGIN;',
      '-- DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "cs"."accounts";',
      '-- DROP TRIGGER IF EXISTS "chekt_contact_sync_notify" ON "cs"."people";',
      '-- DROP FUNCTION IF EXISTS "cs"."chekt_contact_sync_notify"();',
      '-- COMMIT;',
      '',
    ]);
    expect(script).toContain('-- Every statement that changes rows of cs.accounts, cs.people\n');
  });
});

describe('describeStepError', () => {
  const plan = planTriggers([rel('cs.accounts')]);
  const [fn, drop, create] = plan.steps as [(typeof plan.steps)[0], (typeof plan.steps)[0], (typeof plan.steps)[0]];
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('42501 names the table or schema, the role and the privilege it lacks', () => {
    expect(describeStepError(create, 'dba', pgError('42501', 'permission denied for table accounts'))).toBe(
      'table cs.accounts: insufficient privilege: role "dba" lacks the TRIGGER privilege on cs.accounts (GRANT TRIGGER ON cs.accounts TO "dba", or run this as the table owner) (permission denied for table accounts)',
    );
    expect(describeStepError(drop, 'dba', pgError('42501', 'must be owner of relation accounts'))).toMatch(
      /^table cs\.accounts: insufficient privilege: role "dba" does not own the table, .*DROP TRIGGER/,
    );
    expect(describeStepError(fn, 'dba', pgError('42501', 'permission denied for schema cs'))).toBe(
      'function cs.chekt_contact_sync_notify(): insufficient privilege: role "dba" needs USAGE and CREATE on schema cs (permission denied for schema cs)',
    );
  });

  it('42P01, 3F000, 42809 and 25006 in words; anything else with its SQLSTATE', () => {
    expect(describeStepError(create, 'dba', pgError('42P01', 'relation "cs.accounts" does not exist'))).toBe(
      'table cs.accounts: undefined table: cs.accounts does not exist (relation "cs.accounts" does not exist)',
    );
    expect(describeStepError(fn, 'dba', pgError('3F000', 'schema "cs" does not exist'))).toBe('function cs.chekt_contact_sync_notify(): schema cs does not exist (schema "cs" does not exist)');
    expect(describeStepError(create, 'dba', pgError('42809', '"accounts" is a view'))).toMatch(
      /^table cs\.accounts: not a table \("accounts" is a view\); put the triggers on the tables behind a view$/,
    );
    expect(describeStepError(fn, 'reader', pgError('25006', 'cannot execute CREATE FUNCTION in a read-only transaction'))).toMatch(
      /^function cs\.chekt_contact_sync_notify\(\): role "reader" is read-only/,
    );
    expect(describeStepError(create, 'dba', pgError('57014', 'canceling statement due to statement timeout'))).toBe('table cs.accounts: canceling statement due to statement timeout (SQLSTATE 57014)');
  });
});

describe('loadCrmAdminUrl', () => {
  it('--admin-url wins over CRM_ADMIN_DATABASE_URL; neither (or blank) is undefined', () => {
    const env = { CRM_ADMIN_DATABASE_URL: 'postgresql://owner@crm/crm' };
    expect(loadCrmAdminUrl(env, 'postgres://dba@crm/crm')).toBe('postgres://dba@crm/crm');
    expect(loadCrmAdminUrl(env)).toBe('postgresql://owner@crm/crm');
    expect(loadCrmAdminUrl({ CRM_ADMIN_DATABASE_URL: '  ' })).toBeUndefined();
    expect(loadCrmAdminUrl({})).toBeUndefined();
  });

  it('names the flag or the variable a bad value came from', () => {
    expect(() => loadCrmAdminUrl({}, 'http://crm')).toThrow(ConfigError);
    expect(() => loadCrmAdminUrl({}, 'http://crm')).toThrow('--admin-url: must be a postgresql:// URL');
    expect(() => loadCrmAdminUrl({ CRM_ADMIN_DATABASE_URL: 'crm:5432' })).toThrow('CRM_ADMIN_DATABASE_URL: must be a postgresql:// URL');
  });
});
