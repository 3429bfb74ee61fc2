/**
 * Public shapes of the CHeKT sandbox. `server.ts` re-exports them; they live here so the pure modules
 * (store, recorder, faults) can use them without importing fastify.
 */

/** An OAuth client the sandbox's token endpoint accepts (docs/CHEKT-API.md#token-endpoint). */
export interface SandboxClient {
  clientId: string;
  /** Enables mode 1 (`client_id` + `client_secret`). */
  clientSecret?: string;
  /** PEM SPKI public key; when set, client_assertion JWTs (RS256) are verified with it. */
  publicKeyPem?: string;
}

/** Switchable failures (docs/CHEKT-API.md#the-chekt-sandbox). Decided by a seeded PRNG, so reproducible. */
export interface SandboxFaults {
  /** Added delay per `/partner` request, in milliseconds, after auth and rate limit. Default 0. */
  latencyMs: number;
  /** 0..1 share of `/partner` requests answered 503 `service_unavailable` before doing anything. Default 0. */
  errorRate: number;
  /** 0..1 share of committed writes (POST/PUT/DELETE) whose socket is then destroyed with no response. Default 0. */
  dropAfterCommitRate: number;
  /** Creates/updates for these `external_contact_id`s answer 400 `invalid_field` on `external_contact_id`. Default []. */
  rejectExternalContactIds: string[];
  /**
   * Store phone numbers as bare digits, as a CHeKT that normalises input would (CHeKT's example phone is
   * "1234567890"): "+33 1 42 68 53 00" is stored and returned as "33142685300". Default false.
   */
  storePhoneDigitsOnly: boolean;
  /** Return at most this many contacts from a list, silently (an undocumented page size). 0 = all. Default 0. */
  listLimit: number;
  /** Added delay per `/oauth/token` request, in milliseconds (a slow token server). Default 0. */
  tokenLatencyMs: number;
  /** 0..1 share of `/oauth/token` requests answered 503 (the token server down). Default 0. */
  tokenErrorRate: number;
  /**
   * When above 0, every authenticated `/partner` request is answered 429 `rate_limited` with `Retry-After` of this
   * many seconds (a CHeKT that throttles the client for minutes), before the bucket is consulted. Default 0.
   */
  retryAfterSeconds: number;
  /**
   * Refuse a `phone_number` that is not E.164 or bare digits (`+12015550100`, `12015550100`; 7 to 15 digits)
   * with 400 `invalid_field` on `phone_number`, as a strict CHeKT does with `+12015550100 ext. 5`. Default false.
   */
  strictPhone: boolean;
  /** Refuse any non-empty value of these fields on create and update with 400 `invalid_field` naming it. Default []. */
  rejectFields: string[];
  /** Accept writes but store no phone (the echo then has none), as a CHeKT that drops a number it dislikes. Default false. */
  dropPhone: boolean;
}

/**
 * A contact as the sandbox stores and returns it: exactly CHeKT's documented response object ("Create a Contact",
 * "Response (201 Created)"). `created_at` is ISO-8601 with milliseconds and `Z`.
 */
export interface SandboxContact {
  contact_id: number;
  external_contact_id: string;
  first_name: string;
  last_name: string;
  phone_number: string | null;
  email: string | null;
  created_at: string;
}

/** One request to the API (token or `/partner`), as recorded for tests. Inspection routes are never recorded. */
export interface SandboxRequestRecord {
  method: string;
  /** URL path without the query string. */
  path: string;
  /** Method and route pattern, e.g. `'POST /partner/v1/dealers/:dealerId/sites/:siteId/contacts'`, `'POST /oauth/token'`. */
  route: string;
  /** HTTP status sent; 0 when the socket was destroyed by `dropAfterCommitRate`. */
  status: number;
  /** The `x-partner-trace-id` request header, or null when absent. */
  traceId: string | null;
  /** Whether `traceId` is an RFC 4122 UUID (CHeKT asks for a UUID, docs/CHEKT-API.md#trace-ids). */
  traceIdIsUuid: boolean;
  /** Whether an `Authorization: Bearer <token>` header was sent (valid or not). */
  hasBearer: boolean;
  /** Arrival time, epoch milliseconds. */
  at: number;
}

/** Counters since the last `resetStats()`. Exact (not derived from the capped request list). */
export interface SandboxStats {
  total: number;
  /** Keyed by {@link SandboxRequestRecord.route}. */
  byRoute: Record<string, number>;
  /** Keyed by status as a string (`'201'`, `'429'`, `'0'` for dropped). */
  byStatus: Record<string, number>;
  /** POST/PUT/DELETE on the contacts routes, any status (401, 429, 503 and dropped included). */
  writes: number;
  /** Tokens issued (200 answers of `POST /oauth/token`); failed token requests count in byRoute only. */
  tokens: number;
  /** 429 answers, token endpoint included. */
  rateLimited: number;
  /** Writes answered by destroying the socket (status 0). */
  dropped: number;
}

/** Fields a caller supplies when a contact is created (the store adds `contact_id` and `created_at`). */
export type NewContact = Omit<SandboxContact, 'contact_id' | 'created_at'>;

/** A partial change to a stored contact; a present key replaces the stored value. */
export type ContactPatch = Partial<NewContact>;
