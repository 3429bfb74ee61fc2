import { chektContactListSchema } from '../../src/chekt/schemas.js';
import { DEFAULT_RULES } from '../../src/domain/contact.js';
import { compareSites, type Mismatch } from '../demo/verify.js';
import { readSiteContacts, selectSites } from '../../src/source/crm.js';
import type { BenchEnv } from './env.js';
import { siteKey } from '../../src/domain/site.js';

/**
 * The correctness check after every scenario: for every enabled CRM site, CHeKT (the sandbox's state) holds
 * exactly the CRM's valid live contacts with equal normalised values, nothing else and no duplicate
 * (tools/demo/verify.ts). The bench's services run with the default normalisation rules.
 */
export async function verifyEnv(env: BenchEnv): Promise<Mismatch[]> {
  const { sites } = await selectSites(env.crm);
  const live = await readSiteContacts(env.crm, sites, DEFAULT_RULES);
  const state = sites.map((s) => ({
    ref: siteKey(s),
    desired: live.contacts.get(s.crmSiteId) ?? [],
    remote: chektContactListSchema.parse(env.sandbox.contacts(s.dealerId, s.siteId)),
  }));
  return compareSites(state, DEFAULT_RULES);
}

/** One line naming the first few mismatches (ids only, no personal data). */
export function describeMismatches(m: readonly Mismatch[]): string {
  const shown = m.slice(0, 5).map((x) => `${x.site} ${x.externalContactId}: ${x.problem}`);
  return `${m.length} differences between CHeKT and the CRM (${shown.join('; ')}${m.length > 5 ? '; …' : ''})`;
}
