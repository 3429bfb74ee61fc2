import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { buildSandboxApp } from './app.js';
import { createTokenService } from './auth.js';
import type { SandboxContext } from './context.js';
import { createControls } from './control.js';
import { FaultInjector } from './faults.js';
import { RateLimiter } from './rateLimit.js';
import { RequestRecorder } from './recorder.js';
import { SandboxStore } from './store.js';
import type { NewContact, SandboxClient, SandboxContact, SandboxFaults, SandboxRequestRecord, SandboxStats } from './types.js';

export type { SandboxClient, SandboxContact, SandboxFaults, SandboxRequestRecord, SandboxStats } from './types.js';

/** The client accepted when `clients` is not given. */
export const DEFAULT_SANDBOX_CLIENT: Readonly<SandboxClient> = Object.freeze({
  clientId: 'sandbox-client',
  clientSecret: 'sandbox-secret',
});

/** Options for {@link startSandbox}. Every field is optional; defaults are listed per field. */
export interface SandboxOptions {
  /** TCP port; default 0 (a random free port, see {@link Sandbox.url}). */
  port?: number;
  /** Bind address; default `127.0.0.1`. */
  host?: string;
  /** OAuth clients; default `[{ clientId: 'sandbox-client', clientSecret: 'sandbox-secret' }]`. */
  clients?: SandboxClient[];
  /** `expires_in` of issued tokens, seconds; default 3600 (docs/CHEKT-API.md#token-endpoint: "about an hour"). */
  tokenTtlSeconds?: number;
  /**
   * Requests per minute per client; 0 = unlimited (default). A token bucket per client_id counting every
   * request, `/oauth/token` included (docs/CHEKT-API.md#rate-limits). When unlimited, no `X-RateLimit-*` headers are sent.
   */
  rateLimitPerMinute?: number;
  /** Bucket size; default `max(1, round(rateLimitPerMinute / 60 * 5))` (CHeKT Free tier: 60/min, burst 5/s). */
  rateLimitBurst?: number;
  /** Send `X-RateLimit-*` headers when limited; default true. False: a 429 carries only `Retry-After`. */
  rateLimitHeaders?: boolean;
  /** Dealers/sites known at start. */
  sites?: Array<{ dealerId: string; siteId: string }>;
  /** Default false: an unknown dealer or site answers 404. True: first use registers it. */
  autoCreateSites?: boolean;
  /** Faults at start; default none (see {@link SandboxFaults}). */
  faults?: Partial<SandboxFaults>;
  /** Seed of the PRNG deciding `errorRate`/`dropAfterCommitRate`; default 1. */
  seed?: number;
  /**
   * Decimal digits added to every `contact_id` on the wire (default "0"). "9007199254740992" makes the first
   * contact `9007199254740993`, an id a double cannot hold (see {@link SandboxContext.contactIdOffset}).
   */
  contactIdOffset?: string;
  /** `external_contact_id`s whose `contact_id` is written as `<n>.5` (an id no client can address). Default none. */
  fractionalContactIds?: string[];
  /**
   * The sandbox's clock minus the real one, in ms (default 0). -10000 makes the sandbox 10 s slow, as a token
   * server would look from a client whose clock is 10 s fast: token expiry, assertion checks and the `Date`
   * header of the token endpoint all use it.
   */
  clockOffsetMs?: number;
  /** How far in the future an assertion's `iat`/`nbf` may be, in seconds; default 0 (see auth.ts). */
  assertionLeewaySeconds?: number;
  /** pino logger for fastify's request logs; default false (silent). */
  logger?: Logger | false;
}

/** A running sandbox: its address, and in-process controls mirroring the `/__sandbox` routes. */
export interface Sandbox {
  /** Base URL with no trailing slash, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  addSite(dealerId: string, siteId: string): void;
  /** Copies, sorted by `contact_id`; [] for an unknown site. */
  contacts(dealerId: string, siteId: string): SandboxContact[];
  allContacts(): Array<SandboxContact & { dealerId: string; siteId: string }>;
  /** Insert directly (as a dealer would in CHeKT's portal), bypassing auth/limits/counters and uniqueness; registers the site. */
  seedContact(dealerId: string, siteId: string, c: Omit<SandboxContact, 'contact_id' | 'created_at'>): SandboxContact;
  /** @throws {Error} when the contact is not in that site. */
  updateContactDirect(dealerId: string, siteId: string, contactId: number, patch: Partial<Omit<SandboxContact, 'contact_id' | 'created_at'>>): void;
  /** @throws {Error} when the contact is not in that site. */
  deleteContactDirect(dealerId: string, siteId: string, contactId: number): void;
  stats(): SandboxStats;
  /** API requests received and not yet answered (e.g. held by `latencyMs`); inspection routes excluded. */
  inFlight(): number;
  /** Every API request since the last resetStats, oldest first (the last 100,000 kept). */
  requests(): SandboxRequestRecord[];
  resetStats(): void;
  /** @throws {RangeError} on rates outside 0..1 or negative latency. */
  setFaults(f: Partial<SandboxFaults>): void;
  /** 0 = unlimited; burst defaults as in {@link SandboxOptions.rateLimitBurst}. Refills every bucket. */
  setRateLimit(perMinute: number, burst?: number): void;
  /** Every issued token now answers 401. */
  expireAllTokens(): void;
  /** Drops contacts (ids restart at 1), stats, tokens; refills buckets, reseeds faults. Keeps sites, clients, settings. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * Starts a CHeKT sandbox: the token endpoint and the five Contacts endpoints of docs/CHEKT-API.md#contacts-endpoints over real HTTP, plus
 * `/__sandbox` inspection routes (see ./inspect.ts).
 * @throws {RangeError} on invalid numeric options; {@link Error} on a bad client list or public key, or when
 *   the port cannot be bound.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const clockOffsetMs = options.clockOffsetMs ?? 0;
  const now = (): number => Date.now() + clockOffsetMs;
  const ttlSeconds = options.tokenTtlSeconds ?? 3600;
  if (!(ttlSeconds > 0) || !Number.isFinite(ttlSeconds)) throw new RangeError(`tokenTtlSeconds must be > 0, got ${ttlSeconds}`);
  const shutdown = new AbortController();
  // Every request held by `latencyMs` listens on this signal; more than 10 at once is normal, not a leak.
  setMaxListeners(0, shutdown.signal);
  const ctx: SandboxContext = {
    store: new SandboxStore({ now }),
    tokens: await createTokenService({
      clients: options.clients ?? [{ ...DEFAULT_SANDBOX_CLIENT }],
      ttlSeconds,
      now,
      ...(options.assertionLeewaySeconds === undefined ? {} : { assertionLeewaySeconds: options.assertionLeewaySeconds }),
    }),
    limiter: new RateLimiter({ perMinute: options.rateLimitPerMinute ?? 0, burst: options.rateLimitBurst, now }),
    faults: new FaultInjector({ seed: options.seed ?? 1, faults: options.faults }),
    recorder: new RequestRecorder(),
    autoCreateSites: options.autoCreateSites ?? false,
    arrivals: new WeakMap(),
    inFlight: { count: 0 },
    shutdown: shutdown.signal,
    rateLimitHeaders: options.rateLimitHeaders ?? true,
    contactIdOffset: parseOffset(options.contactIdOffset),
    fractionalContactIds: new Set(options.fractionalContactIds ?? []),
    now,
  };
  for (const s of options.sites ?? []) ctx.store.addSite(s.dealerId, s.siteId);
  const controls = createControls(ctx);
  const app = await buildSandboxApp(ctx, controls, options.logger ?? false);
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (err) {
    await app.close();
    throw err;
  }
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('sandbox: server has no TCP address');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    addSite: controls.addSite,
    contacts: (dealerId, siteId) => ctx.store.list(dealerId, siteId),
    allContacts: () => ctx.store.listSites().flatMap((s) => s.contacts.map((c) => ({ ...c, dealerId: s.dealerId, siteId: s.siteId }))),
    seedContact: (dealerId, siteId, c) => controls.seedContact(dealerId, siteId, toNewContact(c)),
    updateContactDirect: (dealerId, siteId, contactId, patch) => {
      controls.updateContactDirect(dealerId, siteId, contactId, patch);
    },
    deleteContactDirect: controls.deleteContactDirect,
    stats: () => ctx.recorder.stats(),
    inFlight: () => ctx.inFlight.count,
    requests: () => ctx.recorder.requests(),
    resetStats: controls.resetStats,
    setFaults: (f) => {
      controls.setFaults(f);
    },
    setRateLimit: (perMinute, burst) => {
      controls.setRateLimit(perMinute, burst);
    },
    expireAllTokens: controls.expireAllTokens,
    reset: controls.reset,
    close: async () => {
      shutdown.abort();
      await app.close();
    },
  };
}

function parseOffset(value: string | undefined): bigint {
  if (value === undefined) return 0n;
  if (!/^[0-9]{1,25}$/.test(value)) throw new RangeError(`contactIdOffset must be decimal digits, got ${JSON.stringify(value)}`);
  return BigInt(value);
}

/** Keeps only the contact fields (a caller may pass a wider object, e.g. one read back with `contact_id`). */
function toNewContact(c: NewContact): NewContact {
  return {
    external_contact_id: c.external_contact_id,
    first_name: c.first_name,
    last_name: c.last_name,
    phone_number: c.phone_number ?? null,
    email: c.email ?? null,
  };
}
