/**
 * Shapes of the CHeKT Partner Contacts API, as CHeKT's Contacts page documents them (docs/CHEKT-API.md#contacts-endpoints).
 * Paths: `/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts[/{contactId}]`.
 */
import type { ChektContact, CreateContactBody, UpdateContactBody } from '../domain/chektContact.js';
import type { SiteRef } from '../domain/site.js';

/** The five Contacts endpoints. Every method throws a `ChektError` subclass (see ./errors/index.ts) on failure. */
export interface ChektContactsApi {
  /** `GET .../contacts` → bare array (200). */
  listContacts(site: SiteRef): Promise<ChektContact[]>;
  /** `GET .../contacts/{contactId}` (200). */
  getContact(site: SiteRef, contactId: string): Promise<ChektContact>;
  /** `POST .../contacts` (201). */
  createContact(site: SiteRef, body: CreateContactBody): Promise<ChektContact>;
  /** `PUT .../contacts/{contactId}` (200). */
  updateContact(site: SiteRef, contactId: string, body: UpdateContactBody): Promise<ChektContact>;
  /** `DELETE .../contacts/{contactId}` (204). */
  deleteContact(site: SiteRef, contactId: string): Promise<void>;
}
