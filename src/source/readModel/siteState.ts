import { DEFAULT_RULES, type NormalizeRules } from '../../domain/contact.js';
import { opKey } from '../../domain/opKey.js';
import { siteReach, type PhoneType, type SiteReach } from '../../domain/reach.js';
import { siteKey, type SiteRef } from '../../domain/site.js';
import { checkSites, parseFlag, toCrmContact } from '../../domain/crmRows.js';
import type { CrmSource } from '../crm/database.js';
import { readSiteContactRows, readSiteRowsByRef } from '../crm/reads.js';
import { dbNow, type PrismaClient } from '../db.js';
import { countedContact } from '../reach.js';
import { listHolds, type HoldRecord } from './holds.js';

/**
 * Sync state per contact and per site, for operators (`GET /api/sites/:dealerId/:siteId`, `npm run status`).
 * Ids, states and reasons only: never a contact's name, phone or email.
 *
 * A contact's state, first match wins (the planner and the worker write the columns read here):
 * 1. `held`: the ledger's last outcome is `held`, or its site has a deletion hold (`sync_holds`) and its latest
 *    operation is `held` (reason: the hold's);
 * 2. `pending`: its latest operation is still `queued` (reason: the operation's, e.g. `fields_differ`);
 * 3. `invalid`: the ledger's last outcome is `skipped`, or a run since the ledger's last write listed it as
 *    invalid (`sync_runs.planned.invalid`, the last {@link INVALID_RUNS_SCANNED} runs);
 * 4. `failed`: the ledger's last outcome is `failed` (reason: its error; retried after the cool-down);
 * 5. `pending`: `sync_ledger.pending_since` is set (a change planned and not yet applied);
 * 6. `synced`: the ledger's last outcome is `succeeded` (for a soft-deleted contact: deleted in CHeKT);
 * 7. `not_synced`: nothing recorded yet (a new contact, or a site with `sync_enabled = false`).
 * `pendingSince` is kept on `held`, `pending` and `failed` contacts: their change is still not applied.
 */

/** See the module comment. */
export type ContactState = 'synced' | 'pending' | 'failed' | 'held' | 'invalid' | 'not_synced';

/** One contact of a site. `crm`: `live`, `deleted` (soft-deleted) or `absent` (a ledger row only). */
export interface ContactStatus {
  readonly externalContactId: string;
  readonly crm: 'live' | 'deleted' | 'absent';
  /** CHeKT `contact_id` the service manages; null when none (never created, or deleted in CHeKT). */
  readonly chektContactId: string | null;
  readonly state: ContactState;
  /** Why: the error, the skip reason, the hold reason, or the pending operation's reason; null when synced. */
  readonly reason: string | null;
  /** ISO 8601 time of the last successful write, or null. */
  readonly syncedAt: string | null;
  /** ISO 8601 time since when a change waits to be applied (`pending`, `failed` or `held`), or null. */
  readonly pendingSince: string | null;
  /** Type of the CRM's phone (domain/reach.ts, docs/REACHABILITY.md); null for a contact not live in the CRM. */
  readonly phoneType: PhoneType | null;
  /** CHeKT can text this contact once synced: an SMS-capable type, kept by CHeKT as sent. False when not live. */
  readonly smsCapable: boolean;
  /** Why CHeKT's copy cannot be texted although the CRM's phone could (the echo check), or null. */
  readonly reachProblem: string | null;
}

/** One CHeKT site as the CRM and the service see it. */
export interface SiteStatus {
  readonly dealerId: string;
  readonly siteId: string;
  /** CRM `sites.id`, `name` and `sync_enabled`. */
  readonly crmSiteId: string;
  readonly name: string;
  readonly syncEnabled: boolean;
  readonly hold: HoldRecord | null;
  /** Contacts per state. */
  readonly counts: Partial<Record<ContactState, number>>;
  /** Live CRM contacts, soft-deleted ones with a ledger row, and ledger-only rows; by `external_contact_id`. */
  readonly contacts: ContactStatus[];
  /** Age in whole seconds of the oldest change not yet applied on this site; null when none. */
  readonly oldestUnsyncedChangeAgeSeconds: number | null;
  /** Live contacts CHeKT can text (0: the site is unreachable; docs/REACHABILITY.md). */
  readonly smsCapableContacts: number;
  /** The site's reachability: live contacts, SMS-capable ones, per phone type, and the reason in words. */
  readonly reach: Omit<SiteReach, 'reachProblems' | 'notSynced'>;
}

/** How many recent runs are searched for a contact's `invalid` note. */
export const INVALID_RUNS_SCANNED = 200;

interface Row {
  ext: string;
  reach_problem: string | null;
  sent_phone: string | null;
  in_crm: boolean;
  /** The CRM row is removed (`deleted_at` set); null when the CRM has no row. */
  deleted: boolean | null;
  chekt_contact_id: string | null;
  last_outcome: string | null;
  last_error: string | null;
  synced_at: Date | null;
  pending_since: Date | null;
  ledger_at: Date | null;
  op_outcome: string | null;
  op_reason: string | null;
  op_created: Date | null;
  invalid_reason: string | null;
  invalid_at: Date | null;
}

/**
 * The status of the CHeKT site `dealerId/siteId` and of each of its contacts; null when no CRM site maps to it.
 * Ages are measured on the database clock.
 */
export async function getSiteStatus(
  { db, crm }: { readonly db: PrismaClient; readonly crm: CrmSource },
  ref: SiteRef,
  /** Phone rules for reachability (`PHONE_DEFAULT_REGION`...). Default: domain/contact.ts DEFAULT_RULES. */
  rules: NormalizeRules = DEFAULT_RULES,
): Promise<SiteStatus | null> {
  const found = await crm.snapshot(async (snap) => {
    const siteRows = await readSiteRowsByRef(snap, crm.relations, snap.shape, [ref]);
    const checked = checkSites(siteRows, snap.shape.sites.has('sync_enabled'));
    const usable = [...checked.byId.values()][0];
    const row = siteRows[0];
    if (!row?.id) return null;
    const enabled = parseFlag(row.sync_enabled, snap.shape.sites.has('sync_enabled'));
    const site = usable ?? { crmSiteId: row.id, dealerId: ref.dealerId, siteId: ref.siteId, name: row.name ?? '', syncEnabled: enabled === true };
    return { site, contacts: await readSiteContactRows(snap, crm.relations, snap.shape, site.crmSiteId) };
  });
  if (!found) return null;
  const site = { id: found.site.crmSiteId, name: found.site.name, syncEnabled: found.site.syncEnabled };
  const crmRows = new Map(found.contacts.filter((c) => c.id !== null).map((c) => [c.id, c]));
  const siteRef = siteKey(ref);
  // Latest operations are looked up by op_key (indexed), computed from the ids the CRM and the ledger know.
  const ledgerIds = await db.$queryRaw<Array<{ id: string }>>`
    SELECT external_contact_id AS id FROM sync_ledger WHERE chekt_dealer_id = ${ref.dealerId} AND chekt_site_id = ${ref.siteId}`;
  const ids = [...new Set([...crmRows.keys(), ...ledgerIds.map((r) => r.id)])];
  const keys = ids.map((id) => opKey(ref.dealerId, ref.siteId, id));
  const crmIds = [...crmRows.keys()];
  const crmDeleted = crmIds.map((id) => crmRows.get(id)!.deleted_at !== null && crmRows.get(id)!.deleted_at!.trim() !== '');
  const [hold, stateRows, now] = await Promise.all([
    listHolds(db, ref).then((h) => h[0] ?? null),
    db.$queryRaw<Row[]>`
      WITH crm AS (SELECT * FROM unnest(${crmIds}::text[], ${crmDeleted}::boolean[]) AS c(id, deleted)),
      led AS (SELECT * FROM sync_ledger WHERE chekt_dealer_id = ${ref.dealerId} AND chekt_site_id = ${ref.siteId}),
      lastop AS (
        SELECT DISTINCT ON (external_contact_id) external_contact_id, outcome, reason, created_at
          FROM sync_operations
         WHERE op_key = ANY(${keys}::text[]) AND chekt_dealer_id = ${ref.dealerId} AND chekt_site_id = ${ref.siteId} AND outcome <> 'planned'
         ORDER BY external_contact_id, created_at DESC, finished_at DESC NULLS FIRST),
      invalid AS (
        SELECT DISTINCT ON (n->>'externalContactId') n->>'externalContactId' AS ext, n->>'reason' AS reason, r.started_at
          FROM (SELECT planned, started_at FROM sync_runs WHERE planned IS NOT NULL ORDER BY started_at DESC LIMIT ${INVALID_RUNS_SCANNED}) r
         CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.planned->'invalid') = 'array' THEN r.planned->'invalid' ELSE '[]'::jsonb END) n
         WHERE n->>'site' = ${siteRef}
         ORDER BY n->>'externalContactId', r.started_at DESC)
      SELECT COALESCE(crm.id, led.external_contact_id) AS ext, crm.id IS NOT NULL AS in_crm, crm.deleted,
             led.reach_problem, led.last_sent->>'phone_number' AS sent_phone,
             led.chekt_contact_id, led.last_outcome, led.last_error, led.synced_at, led.pending_since, led.updated_at AS ledger_at,
             lastop.outcome AS op_outcome, lastop.reason AS op_reason, lastop.created_at AS op_created,
             invalid.reason AS invalid_reason, invalid.started_at AS invalid_at
        FROM crm FULL JOIN led ON led.external_contact_id = crm.id
        LEFT JOIN lastop ON lastop.external_contact_id = COALESCE(crm.id, led.external_contact_id)
        LEFT JOIN invalid ON invalid.ext = COALESCE(crm.id, led.external_contact_id)
       WHERE crm.id IS NULL OR NOT crm.deleted OR led.external_contact_id IS NOT NULL
       ORDER BY 1`,
    dbNow(db),
  ]);
  const rows = stateRows.map((r): Row & { deleted_at: Date | null } => ({ ...r, deleted_at: r.in_crm && r.deleted ? (toCrmContact(crmRows.get(r.ext)!).deletedAt ?? null) : null }));
  const reaches = rows.map((r) => (r.in_crm && !r.deleted_at ? countedContact(toCrmContact(crmRows.get(r.ext)!), rules, r.reach_problem, r.sent_phone) : null));
  const contacts = rows.map((r, i) => {
    const reach = reaches[i];
    return { ...contactStatus(r, hold?.reason ?? null, site.syncEnabled), phoneType: reach?.phoneType ?? null, smsCapable: reach?.smsCapable ?? false, reachProblem: reach?.reachProblem ?? null };
  });
  const { reachProblems: _p, notSynced: _n, ...reach } = siteReach(reaches.filter((r) => r !== null));
  const counts: SiteStatus['counts'] = {};
  for (const c of contacts) counts[c.state] = (counts[c.state] ?? 0) + 1;
  const oldest = contacts.reduce<number | null>((min, c) => {
    const t = c.pendingSince ? Date.parse(c.pendingSince) : null;
    return t !== null && (min === null || t < min) ? t : min;
  }, null);
  return {
    dealerId: ref.dealerId,
    siteId: ref.siteId,
    crmSiteId: site.id,
    name: site.name,
    syncEnabled: site.syncEnabled,
    hold,
    counts,
    contacts,
    oldestUnsyncedChangeAgeSeconds: oldest === null ? null : Math.max(0, Math.floor((now.getTime() - oldest) / 1000)),
    smsCapableContacts: reach.smsCapable,
    reach,
  };
}

/** Applies the precedence of the module comment to one row. */
function contactStatus(r: Row & { deleted_at: Date | null }, holdReason: string | null, syncEnabled: boolean): Omit<ContactStatus, 'phoneType' | 'smsCapable' | 'reachProblem'> {
  const pendingSince = r.pending_since ?? (r.op_outcome === 'queued' ? r.op_created : null);
  const is = (state: ContactState, reason: string | null): ReturnType<typeof contactStatus> => ({
    externalContactId: r.ext,
    crm: r.in_crm ? (r.deleted_at ? 'deleted' : 'live') : 'absent',
    chektContactId: r.chekt_contact_id,
    state,
    reason,
    syncedAt: r.synced_at?.toISOString() ?? null,
    pendingSince: state === 'synced' || state === 'invalid' ? null : (pendingSince?.toISOString() ?? null),
  });
  if ((holdReason !== null && r.op_outcome === 'held') || r.last_outcome === 'held') return is('held', holdReason ?? r.last_error);
  if (r.op_outcome === 'queued') return is('pending', r.op_reason);
  if (r.last_outcome === 'skipped') return is('invalid', r.last_error);
  const listedInvalid = r.invalid_at !== null && r.in_crm && !r.deleted_at && (r.ledger_at === null || r.ledger_at < r.invalid_at);
  if (listedInvalid) return is('invalid', r.invalid_reason);
  if (r.last_outcome === 'failed') return is('failed', r.last_error);
  if (r.pending_since) return is('pending', r.op_reason);
  if (r.last_outcome === 'succeeded') return is('synced', null);
  return is('not_synced', syncEnabled ? null : 'sync_enabled is false for this site');
}

/** The `external_contact_id`s of a site's contacts whose last operation failed (`sync_ledger.last_outcome`), ascending. */
export async function listFailedContactIds(db: PrismaClient, ref: SiteRef): Promise<string[]> {
  const rows = await db.syncLedger.findMany({
    where: { chektDealerId: ref.dealerId, chektSiteId: ref.siteId, lastOutcome: 'failed' },
    select: { externalContactId: true },
    orderBy: { externalContactId: 'asc' },
  });
  return rows.map((r) => r.externalContactId);
}
