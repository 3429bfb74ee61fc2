import type { ContactPatch, NewContact, SandboxContact } from './types.js';

/** A registered CHeKT site and its contacts, keyed by `contact_id`. */
interface SiteState {
  readonly dealerId: string;
  readonly siteId: string;
  readonly contacts: Map<number, SandboxContact>;
}

/** Result of {@link SandboxStore.create}: a duplicate `external_contact_id` within the site is an expected outcome. */
export type CreateResult = { readonly ok: true; readonly contact: SandboxContact } | { readonly ok: false; readonly reason: 'duplicate_external_contact_id'; readonly existing: SandboxContact };

/** Options for {@link SandboxStore}. */
export interface SandboxStoreOptions {
  /** Clock for `created_at`, epoch milliseconds. */
  readonly now: () => number;
}

/**
 * The sandbox's in-memory CHeKT: dealers, sites and their contacts. Pure (no I/O); the clock is injected.
 *
 * Rules (docs/CHEKT-API.md#contacts-endpoints plus docs/CHEKT-API.md#the-chekt-sandbox):
 * - a dealer exists when at least one of its sites is registered;
 * - `contact_id` is an auto-increment integer shared by every site, starting at 1;
 * - `external_contact_id` is unique within a site ({@link create}); {@link insert} skips that rule, as a dealer
 *   editing contacts in CHeKT's portal is not bound by a partner's ids.
 *
 * Every contact handed out is a copy: callers cannot change stored state by mutating results.
 */
export class SandboxStore {
  private readonly now: () => number;
  private readonly sites = new Map<string, SiteState>();
  private readonly dealerSiteCounts = new Map<string, number>();
  private nextContactId = 1;

  constructor(options: SandboxStoreOptions) {
    this.now = options.now;
  }

  /** Registers a site (and so its dealer). Idempotent. */
  addSite(dealerId: string, siteId: string): void {
    const key = siteKey(dealerId, siteId);
    if (this.sites.has(key)) return;
    this.sites.set(key, { dealerId, siteId, contacts: new Map() });
    this.dealerSiteCounts.set(dealerId, (this.dealerSiteCounts.get(dealerId) ?? 0) + 1);
  }

  hasDealer(dealerId: string): boolean {
    return this.dealerSiteCounts.has(dealerId);
  }

  hasSite(dealerId: string, siteId: string): boolean {
    return this.sites.has(siteKey(dealerId, siteId));
  }

  /** Every registered site in registration order, with its contacts sorted by `contact_id`. */
  listSites(): Array<{ dealerId: string; siteId: string; contacts: SandboxContact[] }> {
    return [...this.sites.values()].map((s) => ({ dealerId: s.dealerId, siteId: s.siteId, contacts: sortedCopies(s) }));
  }

  /** The site's contacts sorted by `contact_id` (the order the list endpoint returns); [] for an unknown site. */
  list(dealerId: string, siteId: string): SandboxContact[] {
    const site = this.sites.get(siteKey(dealerId, siteId));
    return site ? sortedCopies(site) : [];
  }

  /** One contact of one site; undefined when the site or the contact (in that site) is unknown. */
  get(dealerId: string, siteId: string, contactId: number): SandboxContact | undefined {
    const found = this.sites.get(siteKey(dealerId, siteId))?.contacts.get(contactId);
    return found ? { ...found } : undefined;
  }

  /**
   * Creates a contact as `POST .../contacts` does. The site must be registered.
   * @throws {Error} when the site is unknown (callers check first and answer 404).
   */
  create(dealerId: string, siteId: string, input: NewContact): CreateResult {
    const site = this.requireSite(dealerId, siteId);
    for (const existing of site.contacts.values()) {
      if (existing.external_contact_id === input.external_contact_id) {
        return { ok: false, reason: 'duplicate_external_contact_id', existing: { ...existing } };
      }
    }
    return { ok: true, contact: this.insertInto(site, input) };
  }

  /** Inserts with no uniqueness rule, registering the site when needed (a dealer adding a contact in the portal). */
  insert(dealerId: string, siteId: string, input: NewContact): SandboxContact {
    this.addSite(dealerId, siteId);
    return this.insertInto(this.requireSite(dealerId, siteId), input);
  }

  /** Applies `patch` (present keys replace); returns the updated contact, or undefined when not found. */
  update(dealerId: string, siteId: string, contactId: number, patch: ContactPatch): SandboxContact | undefined {
    const site = this.sites.get(siteKey(dealerId, siteId));
    const current = site?.contacts.get(contactId);
    if (!site || !current) return undefined;
    const next: SandboxContact = { ...current };
    if (patch.external_contact_id !== undefined) next.external_contact_id = patch.external_contact_id;
    if (patch.first_name !== undefined) next.first_name = patch.first_name;
    if (patch.last_name !== undefined) next.last_name = patch.last_name;
    if (patch.phone_number !== undefined) next.phone_number = patch.phone_number;
    if (patch.email !== undefined) next.email = patch.email;
    site.contacts.set(contactId, next);
    return { ...next };
  }

  /** Deletes one contact; false when the site or contact is unknown. */
  remove(dealerId: string, siteId: string, contactId: number): boolean {
    return this.sites.get(siteKey(dealerId, siteId))?.contacts.delete(contactId) ?? false;
  }

  /** Drops every contact and restarts `contact_id` at 1; sites stay registered. */
  clearContacts(): void {
    for (const site of this.sites.values()) site.contacts.clear();
    this.nextContactId = 1;
  }

  private requireSite(dealerId: string, siteId: string): SiteState {
    const site = this.sites.get(siteKey(dealerId, siteId));
    if (!site) throw new Error(`sandbox: unknown site ${dealerId}/${siteId}`);
    return site;
  }

  private insertInto(site: SiteState, input: NewContact): SandboxContact {
    const contact: SandboxContact = {
      contact_id: this.nextContactId++,
      external_contact_id: input.external_contact_id,
      first_name: input.first_name,
      last_name: input.last_name,
      phone_number: input.phone_number,
      email: input.email,
      created_at: new Date(this.now()).toISOString(),
    };
    site.contacts.set(contact.contact_id, contact);
    return { ...contact };
  }
}

function siteKey(dealerId: string, siteId: string): string {
  return JSON.stringify([dealerId, siteId]);
}

function sortedCopies(site: SiteState): SandboxContact[] {
  return [...site.contacts.values()].sort((a, b) => a.contact_id - b.contact_id).map((c) => ({ ...c }));
}
