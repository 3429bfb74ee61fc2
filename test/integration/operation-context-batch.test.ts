import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runSync } from '../../src/cli/runSync.js';
import { opKey } from '../../src/domain/opKey.js';
import { createCrmSource, CrmReadError, type CrmSource } from '../../src/source/crm/database.js';
import { parseRelationName, type RelationName } from '../../src/source/crm/relations.js';
import { viaPrisma } from '../../src/source/db.js';
import { createOperationStore } from '../../src/source/operationStore.js';
import type { OperationInHand, OperationStore } from '../../src/sync/ports/operations.js';
import { withClient } from './support/database.js';
import { createHarness, seedCrm, type Harness } from './support/harness.js';

/**
 * The worker reads the contexts of the operations that start in one turn of the event loop in one pair of
 * statements (source/operationStore.ts): each operation gets its own rows, and a key the CRM cannot read fails
 * only its own operation.
 */

let h: Harness;
const sources: CrmSource[] = [];
const SITE = { dealerId: '8', siteId: '1', crmSiteId: 's1' };

/** What the store reads an operation by (the rest of a queued operation does not matter here). */
const op = (externalContactId: string, site = SITE): OperationInHand => ({ ...site, externalContactId, opKey: opKey(site.dealerId, site.siteId, externalContactId) }) as unknown as OperationInHand;

/** A store whose two connections count their statements. */
function countingStore(crm: CrmSource): { store: OperationStore; counts: { crm: number; state: number } } {
  const counts = { crm: 0, state: 0 };
  const run = viaPrisma(h.app.db);
  const store = createOperationStore({
    db: h.app.db,
    sql: (statement) => {
      counts.state += 1;
      return run(statement);
    },
    crm: {
      ...crm,
      query: (text, values) => {
        counts.crm += 1;
        return crm.query(text, values);
      },
    },
    rules: h.app.planDeps.rules,
  });
  return { store, counts };
}

beforeAll(async () => {
  h = await createHarness('ctxbatch', { env: { LOG_LEVEL: 'warn' } });
  await seedCrm(
    h,
    [
      { id: 's1', dealerId: '8', siteId: '1' },
      { id: 's2', dealerId: '8', siteId: '2' },
    ],
    [
      { id: 'ok1', siteId: 's1', firstName: 'Ann', lastName: 'One', phoneNumber: '+12025550101' },
      { id: 'ok2', siteId: 's1', firstName: 'Bob', lastName: 'Two', phoneNumber: '+12025550102' },
      { id: 'bad', siteId: 's1', firstName: 'Cy', lastName: 'Three', phoneNumber: '+12025550103' },
      { id: 'ok1', siteId: 's2', firstName: 'Ann', lastName: 'Elsewhere', phoneNumber: '+12025550104' },
    ],
  );
  await h.app.startWorkers({ control: false });
  expect((await runSync(h.app, { trigger: 'cli', sites: [], dryRun: false, timeoutMs: 30_000 })).counts).toEqual({ create: { succeeded: 4 } });
  await Promise.all(h.app.workers.map((w) => w.close()));
  // A view that cannot produce one row: dividing by zero for 'bad' only, at run time.
  await withClient(h.databaseUrl, (c) =>
    c.query(`CREATE VIEW poisoned_contacts AS
               SELECT id, site_id, first_name, last_name,
                      CASE WHEN id = 'bad' THEN (1 / (length(id) - 3))::text ELSE phone_number END AS phone_number, email, deleted_at
                 FROM contacts`),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
  await h?.close();
});

describe('context reads gathered per turn', () => {
  test('reads started in one turn take one statement on each connection, and each operation gets its own rows', async () => {
    const { store, counts } = countingStore(h.app.crm);
    const ops = [op('ok1'), op('ok2'), op('ok1', { dealerId: '8', siteId: '2', crmSiteId: 's2' }), op('gone')];
    const together = await Promise.all(ops.map((o) => store.readContext(o)));
    expect(counts).toEqual({ crm: 1, state: 1 });
    expect(together.map((c) => [c.crm?.lastName ?? null, c.site?.id ?? null, c.ledgerChektContactId !== null, c.fingerprint !== null])).toEqual([
      ['One', 's1', true, true],
      ['Two', 's1', true, true],
      ['Elsewhere', 's2', true, true],
      [null, 's1', false, false],
    ]);
    // Each differs from the others where its rows do, and equals the same read made alone.
    expect(new Set(together.slice(0, 3).map((c) => c.ledgerChektContactId)).size).toBe(3);
    for (const [i, o] of ops.entries()) {
      const alone = await store.readContext(o);
      expect({ ...alone, readAt: null }).toEqual({ ...together[i]!, readAt: null });
    }
    expect(counts).toEqual({ crm: 1 + ops.length, state: 1 + ops.length });
  });

  test('a key whose CRM row cannot be read fails its own operation only', async () => {
    const rel = (raw: string) => parseRelationName(raw) as RelationName;
    const poisoned = createCrmSource({ databaseUrl: h.databaseUrl, relations: { sites: rel('sites'), contacts: rel('poisoned_contacts') }, poolSize: 2 });
    sources.push(poisoned);
    const { store } = countingStore(poisoned);
    const results = await Promise.allSettled([op('ok1'), op('bad'), op('ok2')].map((o) => store.readContext(o)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.crm?.lastName : null))).toEqual(['One', null, 'Two']);
    const reason = (results[1] as PromiseRejectedResult).reason as CrmReadError;
    expect(reason).toBeInstanceOf(CrmReadError);
    expect(reason.message).toContain('22012');
  });
});
