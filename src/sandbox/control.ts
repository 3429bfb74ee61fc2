import type { SandboxContext } from './context.js';
import type { ContactPatch, NewContact, SandboxContact, SandboxFaults, SandboxStats } from './types.js';

/**
 * The sandbox's test-and-staging controls, shared by the in-process `Sandbox` handle (server.ts) and the
 * HTTP inspection routes (inspect.ts), so both behave identically. None of these is counted in stats.
 */
export interface SandboxControls {
  addSite(dealerId: string, siteId: string): void;
  /** Inserts as a dealer would in CHeKT's portal: no auth, no limits, no uniqueness rule; registers the site. */
  seedContact(dealerId: string, siteId: string, contact: NewContact): SandboxContact;
  /** @throws {Error} when the contact is not in that site. */
  updateContactDirect(dealerId: string, siteId: string, contactId: number, patch: ContactPatch): SandboxContact;
  /** @throws {Error} when the contact is not in that site. */
  deleteContactDirect(dealerId: string, siteId: string, contactId: number): void;
  /** Every site with its contacts, plus the stats. */
  state(): { sites: Array<{ dealerId: string; siteId: string; contacts: SandboxContact[] }>; stats: SandboxStats };
  /** @throws {RangeError} on out-of-range values. */
  setFaults(patch: Partial<SandboxFaults>): SandboxFaults;
  /** @throws {RangeError} when perMinute < 0 or burst < 1. Refills every bucket. */
  setRateLimit(perMinute: number, burst?: number): { perMinute: number; burst: number };
  expireAllTokens(): void;
  resetStats(): void;
  /**
   * Drops contacts (`contact_id` restarts at 1), stats, tokens and used assertion ids; refills rate-limit buckets
   * and restarts the fault PRNG from its seed. Kept: sites, clients, fault and rate-limit settings.
   */
  reset(): void;
}

/** Builds the controls over one sandbox's context. */
export function createControls(ctx: SandboxContext): SandboxControls {
  return {
    addSite: (dealerId, siteId) => ctx.store.addSite(dealerId, siteId),
    seedContact: (dealerId, siteId, contact) => ctx.store.insert(dealerId, siteId, contact),
    updateContactDirect(dealerId, siteId, contactId, patch) {
      const updated = ctx.store.update(dealerId, siteId, contactId, patch);
      if (!updated) throw new Error(`sandbox: no contact ${contactId} in site ${dealerId}/${siteId}`);
      return updated;
    },
    deleteContactDirect(dealerId, siteId, contactId) {
      if (!ctx.store.remove(dealerId, siteId, contactId)) {
        throw new Error(`sandbox: no contact ${contactId} in site ${dealerId}/${siteId}`);
      }
    },
    state: () => ({ sites: ctx.store.listSites(), stats: ctx.recorder.stats() }),
    setFaults(patch) {
      ctx.faults.set(patch);
      return ctx.faults.faults;
    },
    setRateLimit(perMinute, burst) {
      ctx.limiter.configure(perMinute, burst);
      return ctx.limiter.settings;
    },
    expireAllTokens: () => ctx.tokens.expireAll(),
    resetStats: () => ctx.recorder.reset(),
    reset() {
      ctx.store.clearContacts();
      ctx.recorder.reset();
      ctx.tokens.reset();
      ctx.limiter.reset();
      ctx.faults.reseed();
    },
  };
}
