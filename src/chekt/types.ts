/**
 * Shapes of the CHeKT Partner Contacts API, from ../shared/seed/chekt-contacts-api.txt ("Contacts API").
 * Paths: `/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts[/{contactId}]`.
 */

/** Identifies one CHeKT site: both ids are CHeKT's (strings in paths; CHeKT itself uses numbers). */
export interface SiteRef {
  readonly dealerId: string;
  readonly siteId: string;
}

/**
 * A contact as CHeKT returns it (create 201, get 200, update 200, list items).
 * `contactId` is CHeKT's `contact_id` (a number in the seed), kept as a string here so numeric and string ids
 * both work in paths. Optional fields are `null` when CHeKT omits them or sends null.
 */
export interface ChektContact {
  readonly contactId: string;
  readonly externalContactId: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly phoneNumber: string | null;
  readonly email: string | null;
  readonly createdAt: string | null;
  /**
   * Set only on a listed contact whose `contact_id` cannot name it in a path (missing, empty, a fraction, a
   * number already rounded): the reason. `contactId` then holds the raw value as text. Such a contact is
   * never written to, and no copy of it is created (docs/CHEKT-AUTH-AND-IDS.md, "Contact ids").
   */
  readonly unaddressable?: string;
}

/** Body of `POST .../contacts` (seed "Create a Contact"). Optional fields are omitted when absent. */
export interface CreateContactBody {
  external_contact_id: string;
  first_name: string;
  last_name: string;
  phone_number?: string;
  email?: string;
}

/**
 * Body of `PUT .../contacts/{contactId}` (seed "Update a Contact": every field optional). A field left out is
 * not changed by CHeKT; an empty string clears it.
 */
export interface UpdateContactBody {
  first_name?: string;
  last_name?: string;
  phone_number?: string;
  email?: string;
}

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
