import type { Harness, SeedContact, SeedSite } from './harness.js';

/**
 * CRM rows the integration tests seed again and again (through harness.ts `seedCrm`), built in one place. Each
 * builder returns exactly the rows the tests spelled out before, so their assertions (ids, names, phones) hold.
 */

/** `count` sites `s1`…`s<count>` of dealer `dealerId`, with CHeKT site ids `1`…`<count>`. */
export function dealerSites(dealerId: string, count: number): SeedSite[] {
  return Array.from({ length: count }, (_, i) => ({ id: `s${i + 1}`, dealerId, siteId: String(i + 1) }));
}

/**
 * `n` contacts `<idPrefix>0`…`<idPrefix><n-1>`: contact `i` on `siteIds[i % siteIds.length]`, first name
 * `firstName`, last name `<lastName> <i>`, and with `phones` a distinct US number `+1 201 555 01<ii>` (i < 100).
 */
export function numberedContacts(n: number, options: { idPrefix: string; siteIds: readonly string[]; firstName: string; lastName: string; phones?: boolean }): SeedContact[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${options.idPrefix}${i}`,
    siteId: options.siteIds[i % options.siteIds.length]!,
    firstName: options.firstName,
    lastName: `${options.lastName} ${i}`,
    ...(options.phones ? { phoneNumber: `+1 201 555 01${String(i).padStart(2, '0')}` } : {}),
  }));
}

/**
 * A ledger row for CHeKT site `dealerId`/`siteId` (a contact deleted before), as after a first sync: the change
 * tick then treats the site as known and plans its creates with no list call.
 */
export async function markSiteSynced(h: Harness, dealerId: string, siteId: string): Promise<void> {
  await h.app.db.syncLedger.create({ data: { chektDealerId: dealerId, chektSiteId: siteId, externalContactId: 'seen-before', lastKind: 'delete', lastOutcome: 'succeeded' } });
}
