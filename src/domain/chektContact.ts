/**
 * The CHeKT contact shapes the domain maps CRM contacts to and from (docs/CHEKT-API.md#contacts-endpoints). Pure
 * types: the adapter (src/chekt/) parses CHeKT's JSON into {@link ChektContact} and sends the two bodies.
 */

/**
 * A contact as CHeKT returns it (create 201, get 200, update 200, list items).
 * `contactId` is CHeKT's `contact_id` (a JSON number in CHeKT's answers, docs/CHEKT-API.md#ids), kept as a string here so numeric and string ids
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
   * never written to, and no copy of it is created (docs/CHEKT-AUTH-AND-IDS.md#contact-ids).
   */
  readonly unaddressable?: string;
}

/** Body of `POST .../contacts` (CHeKT's "Create a Contact"). Optional fields are omitted when absent. */
export interface CreateContactBody {
  external_contact_id: string;
  first_name: string;
  last_name: string;
  phone_number?: string;
  email?: string;
}

/**
 * Body of `PUT .../contacts/{contactId}` (CHeKT's "Update a Contact": every field optional). A field left out is
 * not changed by CHeKT; an empty string clears it.
 */
export interface UpdateContactBody {
  first_name?: string;
  last_name?: string;
  phone_number?: string;
  email?: string;
}
