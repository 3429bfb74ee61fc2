import type { Logger } from '../../logger.js';
import { CrmContractError, type CrmSource } from './database.js';
import { contractProblems, type CrmInspection } from './inspect.js';

/**
 * The start-up check of the source contract (docs/SOURCE-CHECK.md#at-start-up): before the service or `npm run
 * sync` plans anything, the CRM role must see both relations with every required column, of a usable type, and
 * `SELECT` on them. src/preflight.ts `checkConnections` runs it beside the PostgreSQL and Redis checks (given the
 * app's `crm`, as `npm start` and `npm run sync` give it); a fatal problem there exits 2.
 */

/** Options of {@link checkCrmContract}. */
export interface CrmContractCheckOptions {
  /**
   * The CRM connection is the service's own (`CRM_DATABASE_URL` unset or equal to `DATABASE_URL`: the built-in
   * tables, or views read with the service's role). That role must write the service's tables, so warnings about
   * its privileges say nothing and are not logged. Default false.
   */
  readonly serviceRole?: boolean;
}

/**
 * Inspects the CRM's catalogs (source/crm/inspect.ts) and judges the contract: each warning (the role can write,
 * or is a superuser) is logged with `logger.warn`, unless `serviceRole`; fatal problems throw.
 * @returns the inspection, when the contract holds.
 * @throws {CrmContractError} listing every fatal problem, each naming the relation and the column or the
 *   privilege and the role (`CRM_CONTACTS_SOURCE: role crm_reader has no SELECT on crm.contacts`).
 * @throws the node-postgres error when the CRM cannot be reached (src/preflight.ts names `CRM_DATABASE_URL`).
 */
export async function checkCrmContract(crm: Pick<CrmSource, 'inspect'>, logger: Pick<Logger, 'warn'>, options: CrmContractCheckOptions = {}): Promise<CrmInspection> {
  const inspection = await crm.inspect();
  const problems = contractProblems(inspection);
  for (const p of problems) {
    if (p.severity === 'warning' && !options.serviceRole) logger.warn({ relation: p.relation, role: inspection.role }, p.reason);
  }
  const fatal = problems.filter((p) => p.severity === 'fatal');
  if (fatal.length > 0) throw new CrmContractError(fatal.map((p) => p.reason));
  return inspection;
}
