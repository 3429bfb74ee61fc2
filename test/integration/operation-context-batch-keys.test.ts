import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { opKey } from '../../src/domain/opKey.js';
import pg from 'pg';
import { viaPrisma, type RunSql } from '../../src/source/db.js';
import { statementNames } from '../../src/source/statementNames.js';
import { createOperationStore } from '../../src/source/operationStore.js';
import type { OperationContext, OperationInHand, OperationStore } from '../../src/sync/ports/operations.js';
import { withClient } from './support/database.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * The gathered context reads (source/operationStore.ts, operationContext.ts, crm/reads.ts
 * readOperationRows): keys with characters an array literal must escape, NULL-ish strings, unicode, very long ids,
 * the same key twice, more than one batch (64), on both statement runners. Each gathered context must equal the
 * one read alone and carry its own ledger row.
 */

let h: Harness;
let pool: pg.Pool;
/** source/db.ts `Database.sql` over a pool this file closes: node-postgres directly, statements prepared by name. */
let direct: RunSql;

const ODD = ['a,b', 'a"b', '{x}', 'a\\b', 'NULL', 'null', ' ', 'é🙂', "o'brien", '}{,"\\', 'x'.repeat(5000), '\t\n', '[1]'];
const SITES = [
  { id: 's,1', dealerId: 'd"1', siteId: '{1}' },
  { id: 'NULL', dealerId: 'NULL', siteId: 'NULL' },
];
// 13 odd ids x 2 sites = 26 keys; with plain ids too, 80 ops: two batches. 'missing' has no CRM row and no ledger.
const PLAIN = Array.from({ length: 40 }, (_, i) => `p${i}`);

const op = (externalContactId: string, site: (typeof SITES)[number]): OperationInHand =>
  ({ dealerId: site.dealerId, siteId: site.siteId, crmSiteId: site.id, externalContactId, opKey: opKey(site.dealerId, site.siteId, externalContactId) }) as unknown as OperationInHand;

const ledgerId = (site: (typeof SITES)[number], id: string) => `${SITES.indexOf(site)}:${id.length}:${Buffer.from(id).toString('hex').slice(0, 40)}`;

beforeAll(async () => {
  h = await createHarness('ctxbreak', { env: { LOG_LEVEL: 'warn' } });
  await seedCrm(
    h,
    SITES,
    SITES.flatMap((s, si) => [...ODD, ...PLAIN].map((id) => ({ id, siteId: s.id, firstName: `F${si}`, lastName: `L:${id.slice(0, 20)}`, phoneNumber: '+12025550101' }))),
  );
  await withClient(h.databaseUrl, async (c) => {
    for (const s of SITES)
      for (const id of [...ODD, ...PLAIN])
        await c.query(`INSERT INTO sync_ledger (chekt_dealer_id, chekt_site_id, external_contact_id, chekt_contact_id) VALUES ($1, $2, $3, $4)`, [s.dealerId, s.siteId, id, ledgerId(s, id)]);
  });
  pool = new pg.Pool({ connectionString: h.databaseUrl, max: 3 });
  const name = statementNames();
  direct = async <T>(statement: { text: string; values: unknown[] }) => (await pool.query({ name: name({ sql: statement.text }), text: statement.text, values: statement.values })).rows as T[];
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await h?.close();
});

const summary = (c: OperationContext) => ({ ...c, readAt: null });

describe.each([
  ['viaPrisma', () => viaPrisma(h.app.db)],
  ['Database.sql (prepared)', () => direct],
])('gathered reads with odd keys (%s)', (_name, runner) => {
  test('each of 80+ operations, odd ids and a repeated key included, gets its own context, equal to the one read alone', async () => {
    const store: OperationStore = createOperationStore({ db: h.app.db, sql: runner(), crm: h.app.crm, rules: h.app.planDeps.rules });
    const ops = [...SITES.flatMap((s) => ODD.map((id) => op(id, s))), ...PLAIN.map((id) => op(id, SITES[0]!)), op('a,b', SITES[0]!), op('missing', SITES[1]!), ...PLAIN.map((id) => op(id, SITES[1]!))];
    expect(ops.length).toBeGreaterThan(64);
    const together = await Promise.all(ops.map((o) => store.readContext(o)));
    for (const [i, o] of ops.entries()) {
      const site = SITES.find((s) => s.id === o.crmSiteId)!;
      const c = together[i]!;
      if (o.externalContactId === 'missing') {
        expect([c.crm, c.ledgerChektContactId]).toEqual([null, null]);
      } else {
        expect({ key: [o.crmSiteId, o.externalContactId], ledger: c.ledgerChektContactId, crm: c.crm?.lastName, site: c.site?.id, problem: c.problem }).toEqual({
          key: [o.crmSiteId, o.externalContactId],
          ledger: ledgerId(site, o.externalContactId),
          crm: `L:${o.externalContactId.slice(0, 20)}`,
          site: site.id,
          problem: null,
        });
      }
    }
    for (const [i, o] of ops.entries()) expect(summary(await store.readContext(o))).toEqual(summary(together[i]!));
  });
});
