/**
 * Deterministic BullMQ job ids. One id per (dealer, site, external_contact_id), so a contact never has two
 * pending operations on a site (docs/SAFETY.md guarantee 2, "Latest CRM state wins"). Each part is
 * percent-encoded, so ids are unambiguous and never contain ":" (BullMQ reserves it; docs/PLATFORM.md#bullmq).
 */

/** Job id of the operation on one contact of one CHeKT site: `op/<dealer>/<site>/<external_contact_id>`. */
export function opKey(dealerId: string, siteId: string, externalContactId: string): string {
  return ['op', dealerId, siteId, externalContactId].map(encodeURIComponent).join('/');
}

/** Job id for deleting an extra CHeKT copy of a contact: `dup/<dealer>/<site>/<contact_id>`. */
export function duplicateOpKey(dealerId: string, siteId: string, chektContactId: string): string {
  return ['dup', dealerId, siteId, chektContactId].map(encodeURIComponent).join('/');
}
