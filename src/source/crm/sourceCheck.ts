import type { NormalizeRules } from '../../domain/contact.js';
import { createSourceCheck, type CheckedContactRow, type SourceDataReport } from '../../domain/sourceReport.js';
import { CrmContractError, withoutValues, type CrmSource } from './database.js';
import { contractProblems, type ContractProblem, type CrmInspection } from './inspect.js';
import { readSiteRows } from './reads.js';
import { contactColumns, liveCondition } from './sql.js';

/**
 * The reads of `npm run source:check` (docs/SOURCE-CHECK.md): the contract from the catalogs, then every site row
 * and every live contact row in one `REPEATABLE READ READ ONLY` snapshot, contacts through a cursor ordered by
 * `site_id` so the check (domain/sourceReport.ts) holds one site's rows at a time. Nothing is written.
 */

/** Contact rows fetched per cursor batch (whole rows, names included: about 2 MB). */
export const CHECK_BATCH_ROWS = 5_000;

/** One relation as the report names it. */
export interface CheckedRelation {
  /** As configured, e.g. `crm_contract.contacts`. */
  readonly relation: string;
  /** `table`, `view`, … ; null when the role sees no such relation. */
  readonly kind: string | null;
}

/** What `source:check` found; `exitCode` 0 all good, 1 data problems, 2 the contract does not hold or a read failed. */
export interface SourceCheckResult {
  readonly exitCode: 0 | 1 | 2;
  /** The CRM connection's role (`current_user`). */
  readonly role: string;
  readonly sites: CheckedRelation;
  readonly contacts: CheckedRelation;
  /** Fatal problems first, then warnings (source/crm/inspect.ts `contractProblems`). */
  readonly contract: readonly ContractProblem[];
  /** Why a read of a relation failed (exit 2), naming the variable and the relation; null otherwise. */
  readonly readError: string | null;
  /** Null when the contract does not hold or a read failed: the data was not checked. */
  readonly data: SourceDataReport | null;
}

/** Options of {@link checkSource}. */
export interface CheckSourceOptions {
  readonly rules: NormalizeRules;
  /** Sites in the preview (default 10). */
  readonly previewSites?: number;
  /** Problems listed (default 50); the others are counted. */
  readonly maxProblems?: number;
}

/** A read of one relation failed with an SQL error (not a lost connection). */
class RelationReadError extends Error {}

/**
 * Checks the contract, then (when it holds) the data, of the CRM behind `crm`.
 * @throws the node-postgres error when the CRM cannot be reached or the connection is lost.
 */
export async function checkSource(crm: CrmSource, options: CheckSourceOptions): Promise<SourceCheckResult> {
  const inspection = await crm.inspect();
  const contract = contractProblems(inspection);
  const base = { role: inspection.role, sites: relationOf(inspection, 'sites'), contacts: relationOf(inspection, 'contacts'), contract, readError: null, data: null };
  if (contract.some((p) => p.severity === 'fatal')) return { ...base, exitCode: 2 };
  try {
    const data = await crm.snapshot(async (snap) => {
      const { sites, contacts } = crm.relations;
      const siteRows = await tagged('CRM_SITES_SOURCE', sites.display, () => readSiteRows(snap, crm.relations, snap.shape, null));
      const check = createSourceCheck(siteRows, { ...options, syncEnabledPresent: snap.shape.sites.has('sync_enabled') });
      // COLLATE "C": a site's rows come together whatever the column's collation.
      const sql = `SELECT ${contactColumns(snap.shape)} FROM ${contacts.sql} c WHERE ${liveCondition(snap.shape)} ORDER BY c.site_id::text COLLATE "C", c.id::text COLLATE "C"`;
      await tagged('CRM_CONTACTS_SOURCE', contacts.display, () => snap.cursor<CheckedContactRow & Record<string, unknown>>(sql, [], CHECK_BATCH_ROWS, (rows) => check.addContacts(rows)));
      return check.finish();
    });
    return { ...base, exitCode: data.problems.total > 0 ? 1 : 0, data };
  } catch (err) {
    // The views changed between the first inspection and the snapshot's own: report what holds now.
    if (err instanceof CrmContractError) return { ...base, contract: contractProblems(await crm.inspect()), exitCode: 2 };
    if (err instanceof RelationReadError) return { ...base, readError: err.message, exitCode: 2 };
    throw err;
  }
}

function relationOf(inspection: CrmInspection, which: 'sites' | 'contacts'): CheckedRelation {
  const info = inspection[which];
  return { relation: info.relation.display, kind: info.found?.kind ?? null };
}

/** SQLSTATE classes of a lost or refused connection (08, 57P, 28, 3D) and Node's socket codes: not the relation's fault. */
const CONNECTION = /^(E[A-Z]+|08|57P|28|3D)/;

/** Runs `read`; an SQL error becomes a {@link RelationReadError} naming the variable and the relation. */
async function tagged<T>(variable: string, relation: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || CONNECTION.test(code)) throw err;
    throw new RelationReadError(`${variable}: reading ${relation} failed: ${withoutValues((err as Error).message)} (SQLSTATE ${code})`);
  }
}
