import type { NormalizeRules } from '../../domain/contact.js';
import type { ContactKeyRow, RawContactRow, RawSiteRow } from '../../domain/crmRows.js';
import type { CrmShape, Queryable } from './inspect.js';
import { contactColumns, fingerprintSql, liveCondition, rulesKey, siteColumns, type CrmRelations } from './sql.js';

/**
 * The reads of the source contract (docs/CRM.md#the-contract), each one statement on the CRM connection (a pool or
 * a snapshot, ./database.ts). Rows come as text; domain/crmRows.ts checks them. Every read throws the
 * node-postgres error when the CRM cannot be read: the planner then plans nothing.
 */

/** Contact keys fetched per cursor batch: a few MB of rows at a time. */
export const KEY_BATCH_ROWS = 5_000;

/**
 * Site rows: all of them (`crmSiteIds` null), or the given CRM sites and every other site mapped to the same CHeKT
 * sites (so two CRM sites on one CHeKT site are seen as a conflict either way).
 */
export async function readSiteRows(q: Queryable, rel: CrmRelations, shape: CrmShape, crmSiteIds: readonly string[] | null): Promise<RawSiteRow[]> {
  if (crmSiteIds === null) return (await q.query<RawSiteRow & Record<string, unknown>>(`SELECT ${siteColumns(shape)} FROM ${rel.sites.sql} s`)).rows;
  if (crmSiteIds.length === 0) return [];
  const { rows } = await q.query<RawSiteRow & Record<string, unknown>>(
    `SELECT ${siteColumns(shape)} FROM ${rel.sites.sql} s
      WHERE s.id::text = ANY($1::text[])
         OR (s.chekt_dealer_id::text, s.chekt_site_id::text) IN (
              SELECT t.chekt_dealer_id::text, t.chekt_site_id::text FROM ${rel.sites.sql} t WHERE t.id::text = ANY($1::text[]))`,
    [[...crmSiteIds]],
  );
  return rows;
}

/** Site rows whose CHeKT ids are among `refs` (a requested resync names CHeKT's ids). */
export async function readSiteRowsByRef(q: Queryable, rel: CrmRelations, shape: CrmShape, refs: ReadonlyArray<{ dealerId: string; siteId: string }>): Promise<RawSiteRow[]> {
  if (refs.length === 0) return [];
  const { rows } = await q.query<RawSiteRow & Record<string, unknown>>(
    `SELECT ${siteColumns(shape)} FROM ${rel.sites.sql} s
       JOIN unnest($1::text[], $2::text[]) AS r(d, i) ON s.chekt_dealer_id::text = r.d AND s.chekt_site_id::text = r.i`,
    [refs.map((r) => r.dealerId), refs.map((r) => r.siteId)],
  );
  return rows;
}

/**
 * Keys and fingerprints of the live contacts of the given CRM sites (null = all), through a cursor in batches of
 * {@link KEY_BATCH_ROWS}: only inside a snapshot.
 */
export async function streamContactKeys(
  snap: Queryable & { cursor: <R extends Record<string, unknown>>(text: string, values: unknown[], batchRows: number, onRows: (rows: R[]) => void | Promise<void>) => Promise<void> },
  rel: CrmRelations,
  shape: CrmShape,
  crmSiteIds: readonly string[] | null,
  rules: NormalizeRules,
  onRows: (rows: ContactKeyRow[]) => void,
): Promise<void> {
  const filter = crmSiteIds === null ? '' : 'AND c.site_id::text = ANY($2::text[])';
  const values: unknown[] = crmSiteIds === null ? [rulesKey(rules)] : [rulesKey(rules), [...crmSiteIds]];
  await snap.cursor<ContactKeyRow & Record<string, unknown>>(
    `SELECT c.site_id::text AS site_id, c.id::text AS id, ${fingerprintSql(1)} AS fp FROM ${rel.contacts.sql} c WHERE ${liveCondition(shape)} ${filter}`,
    values,
    KEY_BATCH_ROWS,
    onRows,
  );
}

/** A contact row with its fingerprint. */
export type ContactRowWithFp = RawContactRow & { readonly fp: string };

/** Live contact rows of these (`site_id`, `id`) keys, with fingerprints (a key seen twice returns both rows). */
export async function readContactRows(q: Queryable, rel: CrmRelations, shape: CrmShape, keys: ReadonlyArray<{ crmSiteId: string; id: string }>, rules: NormalizeRules): Promise<ContactRowWithFp[]> {
  const out: ContactRowWithFp[] = [];
  for (let i = 0; i < keys.length; i += 5000) {
    const chunk = keys.slice(i, i + 5000);
    const { rows } = await q.query<ContactRowWithFp & Record<string, unknown>>(
      `SELECT ${contactColumns(shape)}, ${fingerprintSql(1)} AS fp
         FROM ${rel.contacts.sql} c JOIN unnest($2::text[], $3::text[]) AS k(s, i) ON c.site_id::text = k.s AND c.id::text = k.i
        WHERE ${liveCondition(shape)}`,
      [rulesKey(rules), chunk.map((k) => k.crmSiteId), chunk.map((k) => k.id)],
    );
    out.push(...rows);
  }
  return out;
}

/** Live contact rows of the given CRM sites (null = every site), with fingerprints, ordered by site and id. */
export async function readLiveContactRows(q: Queryable, rel: CrmRelations, shape: CrmShape, crmSiteIds: readonly string[] | null, rules: NormalizeRules): Promise<ContactRowWithFp[]> {
  if (crmSiteIds !== null && crmSiteIds.length === 0) return [];
  const { rows } = await q.query<ContactRowWithFp & Record<string, unknown>>(
    `SELECT ${contactColumns(shape)}, ${fingerprintSql(1)} AS fp FROM ${rel.contacts.sql} c
      WHERE ${liveCondition(shape)} ${crmSiteIds === null ? '' : 'AND c.site_id::text = ANY($2::text[])'} ORDER BY 2, 1`,
    crmSiteIds === null ? [rulesKey(rules)] : [rulesKey(rules), [...crmSiteIds]],
  );
  return rows;
}

/** Every contact row of one CRM site, live or removed (an operator's view of the site). */
export async function readSiteContactRows(q: Queryable, rel: CrmRelations, shape: CrmShape, crmSiteId: string): Promise<RawContactRow[]> {
  const { rows } = await q.query<RawContactRow & Record<string, unknown>>(`SELECT ${contactColumns(shape)} FROM ${rel.contacts.sql} c WHERE c.site_id::text = $1 ORDER BY 1`, [crmSiteId]);
  return rows;
}

/** Which of `ids` are contacts (live or soft-deleted) of the CRM site `crmSiteId`. */
export async function readKnownContactIds(q: Queryable, rel: CrmRelations, ids: readonly string[], crmSiteId: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await q.query<{ id: string }>(`SELECT DISTINCT c.id::text AS id FROM ${rel.contacts.sql} c WHERE c.site_id::text = $1 AND c.id::text = ANY($2::text[])`, [crmSiteId, [...ids]]);
  return new Set(rows.map((r) => r.id));
}

/** Live contacts per CRM site among `crmSiteIds` (a site without any is absent). */
export async function countLiveContacts(q: Queryable, rel: CrmRelations, shape: CrmShape, crmSiteIds: readonly string[]): Promise<Map<string, number>> {
  if (crmSiteIds.length === 0) return new Map();
  const { rows } = await q.query<{ site_id: string; n: string }>(
    `SELECT c.site_id::text AS site_id, count(*) AS n FROM ${rel.contacts.sql} c WHERE ${liveCondition(shape)} AND c.site_id::text = ANY($1::text[]) GROUP BY 1`,
    [[...crmSiteIds]],
  );
  return new Map(rows.map((r) => [r.site_id, Number(r.n)]));
}

/** The CRM rows of one operation's key: what {@link readOperationRows} returns per key. */
export interface OperationRows {
  /** The CRM's clock when the statement started (`statement_timestamp()`), no later than the data it read. */
  readonly readAt: Date;
  /** Every row of the (`site_id`, `id`) key, live or not, with fingerprints: two rows are a duplicate key. */
  readonly contacts: ContactRowWithFp[];
  /** Every row of the CRM site. */
  readonly sites: RawSiteRow[];
}

/**
 * The CRM rows of several operations' keys in one statement (the worker's re-read, source/operationContext.ts),
 * one {@link OperationRows} per key, in the order of `keys`. One statement text for any number of keys (arrays),
 * so it is prepared once per connection.
 */
export async function readOperationRows(
  q: Queryable,
  rel: CrmRelations,
  shape: CrmShape,
  keys: ReadonlyArray<{ crmSiteId: string; externalContactId: string }>,
  rules: NormalizeRules,
): Promise<OperationRows[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `SELECT statement_timestamp() AS read_at, k.i::int AS i, x.*
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(site_id, id, i)
       LEFT JOIN LATERAL (
         SELECT 'c' AS what, ${contactColumns(shape)}, ${fingerprintSql(1)} AS fp, NULL::text AS chekt_dealer_id, NULL::text AS chekt_site_id, NULL::text AS name, NULL::text AS sync_enabled
           FROM ${rel.contacts.sql} c WHERE c.site_id::text = k.site_id AND c.id::text = k.id
         UNION ALL
         SELECT 's', s.id::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, s.chekt_dealer_id::text, s.chekt_site_id::text, s.name::text,
                ${shape.sites.has('sync_enabled') ? 's.sync_enabled::text' : 'NULL::text'}
           FROM ${rel.sites.sql} s WHERE s.id::text = k.site_id
       ) AS x ON true`,
    [rulesKey(rules), keys.map((k) => k.crmSiteId), keys.map((k) => k.externalContactId)],
  );
  const out = keys.map((): { readAt: Date; contacts: ContactRowWithFp[]; sites: RawSiteRow[] } => ({ readAt: new Date(0), contacts: [], sites: [] }));
  for (const r of rows) {
    const one = out[(r.i as number) - 1]!;
    one.readAt = r.read_at as Date;
    if (r.what === 'c') one.contacts.push(r as unknown as ContactRowWithFp);
    else if (r.what === 's')
      one.sites.push({
        id: r.id as string,
        chekt_dealer_id: r.chekt_dealer_id as string | null,
        chekt_site_id: r.chekt_site_id as string | null,
        name: r.name as string | null,
        sync_enabled: r.sync_enabled as string | null,
      });
  }
  return out;
}
