import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseRelationName, type RelationName } from './source/crm/relations.js';

/**
 * Configuration, parsed once from the environment by zod and frozen. No other module reads `process.env`.
 * Every variable is documented in `.env.example`; defaults below are the documented ones.
 */

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/chekt_contact_sync';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** A Redis Cluster to connect to (parsed from `REDIS_CLUSTER_NODES` by {@link parseClusterNodes}). */
export interface RedisClusterTarget {
  /** Seed nodes; ioredis discovers the others (CLUSTER SLOTS). */
  readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** ACL user and password, when a node was written as a URL carrying them. Never logged. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** True when a node was written as `rediss://` (TLS, as managed clusters require). */
  readonly tls: boolean;
}

/**
 * `REDIS_CLUSTER_NODES`: comma-separated seed nodes, each `host:port` or a `redis://` / `rediss://` URL (the way
 * to give a password or ask for TLS; every node shares the first URL's credentials). Returns the problem in
 * words when the list is malformed.
 */
export function parseClusterNodes(raw: string): RedisClusterTarget | string {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) return 'must list at least one host:port';
  const nodes: Array<{ host: string; port: number }> = [];
  let username: string | undefined;
  let password: string | undefined;
  let tls = false;
  for (const entry of entries) {
    let u: URL;
    try {
      u = new URL(/^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`);
    } catch {
      return `"${entry.replace(/\/\/[^@]*@/, '//***@')}" is not host:port`;
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `"${u.protocol}//…" is not redis:// or rediss://`;
    const port = Number(u.port);
    if (!u.hostname || !u.port || !Number.isInteger(port) || port < 1 || port > 65_535) return `"${u.host || entry}" needs a host and a port, e.g. 10.0.0.1:6379`;
    if (u.pathname !== '' && u.pathname !== '/') return `"${u.host}${u.pathname}": a cluster has only database 0; drop the path`;
    nodes.push({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port });
    if (u.protocol === 'rediss:') tls = true;
    if (u.password && password === undefined) {
      username = u.username ? decodeURIComponent(u.username) : undefined;
      password = decodeURIComponent(u.password);
    }
  }
  return { nodes, username, password, tls };
}

/**
 * A whole number in [min, max], written as plain decimal digits (surrounding white space is ignored).
 * Stricter than coercing with `Number()`, which reads "0x10" as 16 and "1e3" as 1000.
 */
const int = (min: number, max: number) => {
  const message = `must be a whole number between ${min} and ${max}`;
  return z
    .string()
    .trim()
    .refine((s) => /^[0-9]+$/.test(s) && Number(s) >= min && Number(s) <= max, message)
    .transform(Number);
};
/** Parses `u`, or undefined when it is not a URL (refinements still run after zod's own URL check failed). */
function tryUrl(u: string): URL | undefined {
  try {
    return new URL(u);
  } catch {
    return undefined;
  }
}
/**
 * An http(s) URL without a user name or password: fetch refuses such URLs, and the value is logged at start-up.
 * Credentials have their own variables (CHEKT_CLIENT_ID / CHEKT_CLIENT_SECRET, ALERT_WEBHOOK_SECRET).
 */
const url = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .refine((u) => !tryUrl(u)?.username && !tryUrl(u)?.password, 'must not contain a user name or password (credentials have their own variables)');
const nonEmpty = z.string().trim().min(1);

/** True when cron-parser (BullMQ's own cron library) accepts the pattern. */
function cronParses(pattern: string): boolean {
  try {
    CronExpressionParser.parse(pattern, { tz: 'UTC' });
    return true;
  } catch {
    return false;
  }
}

/** A table or view name, `name` or `schema.name` (source/crm/relations.ts), parsed and quoted. */
const relationName = z.string().transform((raw, ctx): RelationName => {
  const parsed = parseRelationName(raw);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `${parsed} (write a table or view name, e.g. crm_contract.contacts)` });
  return parsed as RelationName;
});

/** Raw environment schema. Empty strings count as unset, so `FOO=` in a .env file means "use the default". */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .default(DEFAULT_DATABASE_URL),
  DATABASE_SCHEMA: z
    .string()
    .trim()
    .refine((v) => /^[a-z_][a-z0-9_$]*$/.test(v) && v.length <= 63, 'must be a lower-case schema name (letters, digits, _), e.g. chekt_sync')
    .default('public'),
  CRM_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  CRM_SITES_SOURCE: relationName.prefault('sites'),
  CRM_CONTACTS_SOURCE: relationName.prefault('contacts'),
  DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  DB_PREPARED_STATEMENTS: z.enum(['true', 'false']).default('true'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default(DEFAULT_REDIS_URL),
  REDIS_ALLOW_EVICTION: z.enum(['true', 'false']).default('false'),
  LISTEN_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  LISTEN_HEARTBEAT_MS: int(100, 600_000).default(5_000),
  RECOVERY_INTERVAL_SECONDS: int(1, 3600).default(30),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((raw, ctx) => {
      const parsed = parseClusterNodes(raw);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      return parsed;
    })
    .optional(),
  CHEKT_API_URL: url
    .refine((u) => !/\/partner(\/v\d+)?\/*$/i.test(tryUrl(u)?.pathname ?? ''), 'must be the base URL without /partner/v1 (the client adds it), e.g. https://api.chekt.com')
    .default('https://api.chekt.com'),
  CHEKT_TOKEN_URL: url.optional(),
  CHEKT_CLIENT_ID: nonEmpty,
  CHEKT_CLIENT_SECRET: nonEmpty.optional(),
  CHEKT_PRIVATE_KEY_FILE: nonEmpty.optional(),
  CHEKT_KEY_ID: nonEmpty.optional(),
  CHEKT_AUDIENCE: nonEmpty.optional(),
  CHEKT_RATE_LIMIT_PER_MINUTE: int(1, 1_000_000).default(60),
  CHEKT_TIMEOUT_MS: int(100, 300_000).default(15_000),
  CHEKT_TOKEN_REFRESH_SKEW_SECONDS: int(0, 3600).default(60),
  CHEKT_MAX_RETRY_AFTER_SECONDS: int(1, 3600).default(30),
  CHEKT_MAX_RATE_LIMITED_RETRIES: int(0, 100).default(5),
  CHEKT_ASSERTION_CLOCK_MARGIN_SECONDS: int(0, 240).default(30),
  CHEKT_TOKEN_BACKOFF_MS: int(100, 600_000).default(2_000),
  CHEKT_TOKEN_BACKOFF_MAX_MS: int(100, 3_600_000).default(60_000),
  SYNC_INTERVAL_SECONDS: int(5, 86_400).default(60),
  RECONCILE_CRON: z
    .string()
    .trim()
    .refine((p) => p.split(/\s+/).length >= 5 && cronParses(p), 'must be a cron pattern of 5 or 6 fields, e.g. "0 3 * * *" (03:00 UTC daily)')
    .default('0 3 * * *'),
  RECONCILE_RATE_SHARE_PERCENT: int(1, 100).default(20),
  DELETE_HOLD_SHARE_PERCENT: int(0, 100).default(10),
  DELETE_HOLD_MIN_DELETES: int(1, 1_000_000).default(2),
  DELETE_HOLD_WINDOW_SECONDS: int(0, 30 * 86_400).default(3600),
  SITE_MIN_CONTACTS: int(0, 1000).default(1),
  SITE_MIN_SMS_CONTACTS: int(0, 1000).default(1),
  FAILED_RETRY_COOLDOWN_SECONDS: int(0, 30 * 86_400).default(3600),
  NOTIFY_DEBOUNCE_MS: int(0, 60_000).default(500),
  SYNC_BACKOFF_MS: int(10, 3_600_000).default(2_000),
  SYNC_BACKOFF_MAX_MS: int(10, 3_600_000).default(60_000),
  WORKER_CONCURRENCY: int(1, 256).default(8),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(30_000),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only (no ":" or spaces)')
    .default('chekt-sync'),
  HTTP_PORT: int(0, 65_535).default(3000),
  HTTP_HOST: nonEmpty.default('0.0.0.0'),
  // HTTP Basic (RFC 7617 §2) cannot carry a ":" in the user name.
  ADMIN_USER: nonEmpty.refine((u) => !u.includes(':'), 'must not contain ":" (HTTP Basic cannot carry it)').optional(),
  ADMIN_PASSWORD: nonEmpty.optional(),
  VIEWER_USER: nonEmpty.refine((u) => !u.includes(':'), 'must not contain ":" (HTTP Basic cannot carry it)').optional(),
  VIEWER_PASSWORD: nonEmpty.optional(),
  PHONE_DEFAULT_REGION: z
    .string()
    .refine(isSupportedCountry, {
      error: (iss) => `${JSON.stringify(iss.input)} is not a region libphonenumber-js supports (an ISO 3166-1 alpha-2 code such as US or KR)`,
    })
    .default('US'),
  CONTACT_MAX_NAME_LENGTH: int(1, 10_000).default(100),
  PHONE_FORMAT: z.enum(['E164', 'NATIONAL_DIGITS', 'INTERNATIONAL']).default('E164'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Alerts (docs/CONSOLE.md "Alerts").
  ALERT_WEBHOOK_URL: url.optional(),
  ALERT_WEBHOOK_SECRET: nonEmpty.optional(),
  ALERT_BEHIND_SECONDS: int(1, 30 * 86_400).default(900),
  ALERT_CHECK_INTERVAL_MS: int(100, 3_600_000).default(10_000),
  ALERT_FAILURE_BATCH_SECONDS: int(1, 3600).default(60),
  ALERT_MAX_ATTEMPTS: int(1, 100).default(10),
  ALERT_RETRY_BACKOFF_MS: int(10, 3_600_000).default(2_000),
  ALERT_TIMEOUT_MS: int(100, 120_000).default(5_000),
});

/** Every variable {@link loadConfig} reads (the reference is docs/CONFIGURATION.md; .env.example lists each). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(envSchema.shape));

/** How the service authenticates to CHeKT's token endpoint (docs/CHEKT-API.md#token-endpoint). */
export type ChektAuthConfig =
  | { readonly mode: 'client_secret'; readonly clientId: string; readonly clientSecret: string }
  | {
      readonly mode: 'private_key_jwt';
      readonly clientId: string;
      /** PEM text of the RSA private key read from `CHEKT_PRIVATE_KEY_FILE`. */
      readonly privateKeyPem: string;
      readonly keyId: string;
      readonly audience: string;
    };

/** The parsed, frozen configuration. Units are in the names: `Ms` milliseconds, `Seconds` seconds. */
export interface Config {
  readonly databaseUrl: string;
  /** PostgreSQL `statement_timeout` of the service's sessions, in ms (default 30,000; 0 = none). */
  readonly dbStatementTimeoutMs: number;
  /**
   * Repeated statements are prepared once per connection, on the service's pool and the CRM's (`DB_PREPARED_STATEMENTS`,
   * default true; source/statementNames.ts).
   * False for a transaction-mode pooler that cannot carry them (PgBouncer before 1.21). docs/DEPLOYMENT.md.
   */
  readonly dbPreparedStatements: boolean;
  /** `REDIS_URL`; unused when {@link redisCluster} is set. */
  readonly redisUrl: string;
  /**
   * Start even though Redis may evict keys (`maxmemory-policy` other than `noeviction`): `REDIS_ALLOW_EVICTION`,
   * default false (start-up is refused). docs/OPERATIONS-FAULTS.md.
   */
  readonly redisAllowEviction: boolean;
  /**
   * Schema of the service's own tables in `DATABASE_URL` (`DATABASE_SCHEMA`, default `public`): when the CRM is the
   * same database, a schema of their own keeps them apart from the partner's (docs/CRM.md#our-state-apart).
   */
  readonly databaseSchema: string;
  /** The partner's CRM, read through the source contract (docs/CRM.md#the-contract). */
  readonly crm: {
    /** `CRM_DATABASE_URL`, default `DATABASE_URL`: a role with `SELECT` on the two relations is enough. */
    readonly databaseUrl: string;
    /** `CRM_SITES_SOURCE` (default `sites`) and `CRM_CONTACTS_SOURCE` (default `contacts`): tables or views. */
    readonly sites: RelationName;
    readonly contacts: RelationName;
  };
  /** Connection of the CRM-change listener (`LISTEN_DATABASE_URL`, default `CRM_DATABASE_URL`): session pooling only. */
  readonly listenDatabaseUrl: string;
  /**
   * The listener's connection is proven alive by a `NOTIFY` the service's pool sends it every this many ms; one
   * not arrived within the same time reconnects it (`LISTEN_HEARTBEAT_MS`, default 5,000).
   */
  readonly listenHeartbeatMs: number;
  /**
   * How often each `npm start` checks that the job schedulers exist, repairs runs whose jobs were lost and reads
   * Redis' eviction policy, in seconds (`RECOVERY_INTERVAL_SECONDS`, default 30). Also checked on every Redis reconnect.
   */
  readonly recoveryIntervalSeconds: number;
  /** `REDIS_CLUSTER_NODES`, parsed; when set, every Redis connection goes to this cluster instead of `redisUrl`. */
  readonly redisCluster: RedisClusterTarget | undefined;
  readonly chekt: {
    readonly apiUrl: string;
    readonly tokenUrl: string;
    readonly auth: ChektAuthConfig;
    /** Requests per minute across every process sharing the Redis (default 60, CHeKT's lowest tier). */
    readonly rateLimitPerMinute: number;
    readonly timeoutMs: number;
    readonly tokenRefreshSkewSeconds: number;
    readonly maxRetryAfterSeconds: number;
    readonly maxRateLimitedRetries: number;
    /**
     * `iat`/`nbf` of a signed client assertion are back-dated this many seconds, so a token server whose clock
     * is behind ours by less still accepts it (`CHEKT_ASSERTION_CLOCK_MARGIN_SECONDS`, default 30, at most
     * 240; `exp − iat` stays 300 s). docs/CHEKT-AUTH-AND-IDS.md.
     */
    readonly assertionClockMarginSeconds: number;
    /** First wait after a transient token failure, in ms (`CHEKT_TOKEN_BACKOFF_MS`, default 2000); doubles per failure. */
    readonly tokenBackoffMs: number;
    /** Longest wait between failed token requests, in ms (`CHEKT_TOKEN_BACKOFF_MAX_MS`, default 60000). */
    readonly tokenBackoffMaxMs: number;
  };
  readonly sync: {
    /** Change tick: CRM against the ledger, no CHeKT list (default 300 s; notifications act sooner). */
    readonly intervalSeconds: number;
    /**
     * When to reconcile against CHeKT's live lists (drift repair): a cron pattern in UTC, default
     * `0 3 * * *` (daily at 03:00). A cron pattern, not an interval, so a restart does not start a reconcile.
     */
    readonly reconcileCron: string;
    /** Share of `rateLimitPerMinute` a scheduled reconcile's list calls may use, in percent (default 20). */
    readonly reconcileRateSharePercent: number;
    /** Deletes above this share of a site's or run's managed contacts are held, in percent (default 10). */
    readonly deleteHoldSharePercent: number;
    /** The share rule applies from this many deletes on (default 2). */
    readonly deleteHoldMinDeletes: number;
    /** Deletes of the last this many seconds count against the share rule with the planned ones (default 3600). */
    readonly deleteHoldWindowSeconds: number;
    /** Fewest contacts a site keeps in CHeKT without approval (default 1). */
    readonly siteMinContacts: number;
    /**
     * A delete that would take a site from at least this many SMS-capable contacts to fewer is held (default 1;
     * 0 turns the rule off; docs/REACHABILITY.md).
     */
    readonly siteMinSmsContacts: number;
    /** A contact whose operation failed for good is tried again after this many seconds unless it changes (default 3600). */
    readonly failedRetryCooldownSeconds: number;
    /** CRM change notifications are gathered this long (ms) before one plan covers their sites (default 500). */
    readonly notifyDebounceMs: number;
    /** First backoff window after a transient failure, in ms (default 2,000); doubles per attempt (docs/RETRIES.md). */
    readonly backoffMs: number;
    /**
     * Largest backoff window, in ms (default 60,000): after an outage every pending change is retried within it.
     * Below `backoffMs` it wins (every window is then `backoffMaxMs`).
     */
    readonly backoffMaxMs: number;
    readonly workerConcurrency: number;
    readonly shutdownTimeoutMs: number;
    readonly queuePrefix: string;
    readonly phoneDefaultRegion: string;
    readonly phoneFormat: 'E164' | 'NATIONAL_DIGITS' | 'INTERNATIONAL';
    /** Longest first/last name sent to CHeKT, in code points; longer names are cut at a character boundary. */
    readonly maxNameLength: number;
  };
  readonly http: {
    readonly port: number;
    readonly host: string;
    /** The operator (`ADMIN_USER`): reads, and writes (retry, promote, clean jobs; `POST /api/resync`). */
    readonly adminUser: string | undefined;
    readonly adminPassword: string | undefined;
    /** The optional read-only role (`VIEWER_USER`, `VIEWER_PASSWORD`): both set or both undefined. */
    readonly viewerUser: string | undefined;
    readonly viewerPassword: string | undefined;
  };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** State-change alerts to a webhook (docs/CONSOLE.md "Alerts"). */
  readonly alerts: {
    /** `ALERT_WEBHOOK_URL`: receives one JSON POST per state change; undefined = no alerts are sent. */
    readonly webhookUrl: string | undefined;
    /** `ALERT_WEBHOOK_SECRET`: when set, each POST carries `X-Chekt-Sync-Signature: sha256=<hex HMAC of the body>`. */
    readonly webhookSecret: string | undefined;
    /** The oldest unsynced change older than this many seconds is `sync.behind`, and fails `npm run status` (default 900). */
    readonly behindSeconds: number;
    /** How often each process looks for state changes and undelivered alerts, in ms (default 10,000). */
    readonly checkIntervalMs: number;
    /** Contacts failed for good are gathered this many seconds into one `operations.failed` alert (default 60). */
    readonly failureBatchSeconds: number;
    /** Delivery attempts before an alert is given up as dead (default 10). */
    readonly maxAttempts: number;
    /** First retry delay in ms, doubled per attempt up to 10 minutes (default 2,000). */
    readonly retryBackoffMs: number;
    /** Timeout of one webhook POST, in ms (default 5,000). */
    readonly timeoutMs: number;
  };
}

/** Thrown when the environment is invalid; `message` names every bad variable, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Options for {@link loadConfig}. */
export interface LoadConfigOptions {
  /**
   * Require `ADMIN_USER` and `ADMIN_PASSWORD` (the HTTP service needs them; the CLI does not), and passwords of at
   * least {@link MIN_PASSWORD_LENGTH} characters for the admin and the viewer. Default false.
   */
  readonly requireAdmin?: boolean;
  /** Reads `CHEKT_PRIVATE_KEY_FILE`; replaceable in tests. Default: `fs.readFileSync(path, 'utf8')`. */
  readonly readFile?: (path: string) => string;
}

/**
 * Parses and validates configuration from `env` (normally `process.env`).
 * @throws {ConfigError} listing every missing or invalid variable by name.
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  // A missing variable reads "CHEKT_CLIENT_ID: required", not zod's "expected string, received undefined".
  const parsed = envSchema.safeParse(cleaned, { error: (iss) => (iss.input === undefined ? 'required' : undefined) });
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  // The cross-variable rules run even when the schema failed (on the raw values), so one error names every
  // bad variable, e.g. a missing CHEKT_CLIENT_ID and a missing CHEKT_CLIENT_SECRET together.
  const cross: CrossEnv = parsed.success ? parsed.data : cleaned;
  const auth = resolveAuth(cross, problems, options.readFile ?? ((p) => readFileSync(p, 'utf8')));
  if (options.requireAdmin) {
    if (!cross.ADMIN_USER) problems.push('ADMIN_USER: required to protect the dashboard and /api');
    if (!cross.ADMIN_PASSWORD) problems.push('ADMIN_PASSWORD: required to protect the dashboard and /api');
  }
  checkHttpUsers(cross, problems, options.requireAdmin ?? false);
  if (!parsed.success || problems.length > 0 || !auth) throw new ConfigError(problems);
  const e = parsed.data;
  const apiUrl = e.CHEKT_API_URL.replace(/\/+$/, '');
  return deepFreeze({
    databaseUrl: e.DATABASE_URL,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    dbPreparedStatements: e.DB_PREPARED_STATEMENTS === 'true',
    redisUrl: e.REDIS_URL,
    redisAllowEviction: e.REDIS_ALLOW_EVICTION === 'true',
    databaseSchema: e.DATABASE_SCHEMA,
    crm: { databaseUrl: e.CRM_DATABASE_URL ?? e.DATABASE_URL, sites: e.CRM_SITES_SOURCE, contacts: e.CRM_CONTACTS_SOURCE },
    listenDatabaseUrl: e.LISTEN_DATABASE_URL ?? e.CRM_DATABASE_URL ?? e.DATABASE_URL,
    listenHeartbeatMs: e.LISTEN_HEARTBEAT_MS,
    recoveryIntervalSeconds: e.RECOVERY_INTERVAL_SECONDS,
    redisCluster: typeof e.REDIS_CLUSTER_NODES === 'object' ? e.REDIS_CLUSTER_NODES : undefined,
    chekt: {
      apiUrl,
      tokenUrl: e.CHEKT_TOKEN_URL ?? `${apiUrl}/oauth/token`,
      auth,
      rateLimitPerMinute: e.CHEKT_RATE_LIMIT_PER_MINUTE,
      timeoutMs: e.CHEKT_TIMEOUT_MS,
      tokenRefreshSkewSeconds: e.CHEKT_TOKEN_REFRESH_SKEW_SECONDS,
      maxRetryAfterSeconds: e.CHEKT_MAX_RETRY_AFTER_SECONDS,
      maxRateLimitedRetries: e.CHEKT_MAX_RATE_LIMITED_RETRIES,
      assertionClockMarginSeconds: e.CHEKT_ASSERTION_CLOCK_MARGIN_SECONDS,
      tokenBackoffMs: e.CHEKT_TOKEN_BACKOFF_MS,
      tokenBackoffMaxMs: Math.max(e.CHEKT_TOKEN_BACKOFF_MAX_MS, e.CHEKT_TOKEN_BACKOFF_MS),
    },
    sync: {
      intervalSeconds: e.SYNC_INTERVAL_SECONDS,
      reconcileCron: e.RECONCILE_CRON,
      reconcileRateSharePercent: e.RECONCILE_RATE_SHARE_PERCENT,
      deleteHoldSharePercent: e.DELETE_HOLD_SHARE_PERCENT,
      deleteHoldMinDeletes: e.DELETE_HOLD_MIN_DELETES,
      deleteHoldWindowSeconds: e.DELETE_HOLD_WINDOW_SECONDS,
      siteMinContacts: e.SITE_MIN_CONTACTS,
      siteMinSmsContacts: e.SITE_MIN_SMS_CONTACTS,
      failedRetryCooldownSeconds: e.FAILED_RETRY_COOLDOWN_SECONDS,
      notifyDebounceMs: e.NOTIFY_DEBOUNCE_MS,
      backoffMs: e.SYNC_BACKOFF_MS,
      backoffMaxMs: e.SYNC_BACKOFF_MAX_MS,
      workerConcurrency: e.WORKER_CONCURRENCY,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      queuePrefix: e.QUEUE_PREFIX,
      phoneDefaultRegion: e.PHONE_DEFAULT_REGION,
      phoneFormat: e.PHONE_FORMAT,
      maxNameLength: e.CONTACT_MAX_NAME_LENGTH,
    },
    http: {
      port: e.HTTP_PORT,
      host: e.HTTP_HOST,
      adminUser: e.ADMIN_USER,
      adminPassword: e.ADMIN_PASSWORD,
      viewerUser: e.VIEWER_USER,
      viewerPassword: e.VIEWER_PASSWORD,
    },
    logLevel: e.LOG_LEVEL,
    alerts: {
      webhookUrl: e.ALERT_WEBHOOK_URL,
      webhookSecret: e.ALERT_WEBHOOK_SECRET,
      behindSeconds: e.ALERT_BEHIND_SECONDS,
      checkIntervalMs: e.ALERT_CHECK_INTERVAL_MS,
      failureBatchSeconds: e.ALERT_FAILURE_BATCH_SECONDS,
      maxAttempts: e.ALERT_MAX_ATTEMPTS,
      retryBackoffMs: e.ALERT_RETRY_BACKOFF_MS,
      timeoutMs: e.ALERT_TIMEOUT_MS,
    },
  });
}

/** Where the service's state and the partner's CRM are: the part of {@link Config} a tool reading them needs. */
export type StoreConfig = Pick<Config, 'databaseUrl' | 'databaseSchema' | 'crm'>;

/**
 * Parses `DATABASE_URL`, `DATABASE_SCHEMA`, `CRM_DATABASE_URL`, `CRM_SITES_SOURCE` and `CRM_CONTACTS_SOURCE` alone,
 * with the same rules and defaults as {@link loadConfig}, for tools that must not require CHeKT credentials
 * (`npm run status`, `npm run source:check`).
 * @throws {ConfigError} naming each invalid variable.
 */
export function loadStoreConfig(env: Record<string, string | undefined>): StoreConfig {
  const names = ['DATABASE_URL', 'DATABASE_SCHEMA', 'CRM_DATABASE_URL', 'CRM_SITES_SOURCE', 'CRM_CONTACTS_SOURCE'] as const;
  const picked = Object.fromEntries(names.map((n) => [n, env[n]?.trim() ? env[n] : undefined]));
  const parsed = envSchema.pick({ DATABASE_URL: true, DATABASE_SCHEMA: true, CRM_DATABASE_URL: true, CRM_SITES_SOURCE: true, CRM_CONTACTS_SOURCE: true }).safeParse(picked);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  const e = parsed.data;
  return { databaseUrl: e.DATABASE_URL, databaseSchema: e.DATABASE_SCHEMA, crm: { databaseUrl: e.CRM_DATABASE_URL ?? e.DATABASE_URL, sites: e.CRM_SITES_SOURCE, contacts: e.CRM_CONTACTS_SOURCE } };
}

/**
 * Parses `ALERT_BEHIND_SECONDS` alone (same rule and default as {@link loadConfig}), for `npm run status`, which
 * must not require CHeKT credentials.
 * @throws {ConfigError} naming `ALERT_BEHIND_SECONDS` when it is invalid.
 */
export function loadBehindSeconds(env: Record<string, string | undefined>): number {
  const raw = env.ALERT_BEHIND_SECONDS?.trim() ? env.ALERT_BEHIND_SECONDS : undefined;
  const parsed = envSchema.shape.ALERT_BEHIND_SECONDS.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `ALERT_BEHIND_SECONDS: ${i.message}`));
  return parsed.data;
}

/**
 * Loads an env file into `process.env` with Node's own parser (`process.loadEnvFile`, the format of
 * `node --env-file`): `ENV_FILE` when set (then the file must exist), else `.env` in the working directory when
 * there is one. Variables already in the environment win, even when set empty. Every entry point calls this
 * before {@link loadConfig}; the demo does not (it runs on its own database whatever `.env` says).
 * @returns the absolute path loaded, or undefined when there was none.
 * @throws {ConfigError} naming `ENV_FILE` when it names a missing file, or naming the file when it cannot be read.
 */
export function loadEnvFile(cwd: string = process.cwd()): string | undefined {
  const named = process.env.ENV_FILE?.trim();
  const path = resolve(cwd, named || '.env');
  if (!existsSync(path)) {
    if (named) throw new ConfigError([`ENV_FILE: no such file ${path}`]);
    return undefined;
  }
  try {
    process.loadEnvFile(path);
  } catch (err) {
    throw new ConfigError([`${named ? 'ENV_FILE' : '.env'}: cannot read ${path} (${(err as Error).message})`]);
  }
  return path;
}

/**
 * Parses `DATABASE_URL` alone, with the same rule and default as {@link loadConfig}, for tools that only read
 * PostgreSQL (`npm run status`) and so must not require CHeKT credentials.
 * @throws {ConfigError} naming `DATABASE_URL` when it is invalid.
 */
export function loadDatabaseUrl(env: Record<string, string | undefined>): string {
  const raw = env.DATABASE_URL?.trim() ? env.DATABASE_URL : undefined;
  const parsed = envSchema.shape.DATABASE_URL.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `DATABASE_URL: ${i.message}`));
  return parsed.data;
}

/**
 * The CRM admin connection of `npm run crm:triggers -- --apply` (docs/CRM.md#notify-triggers-opt-in): `flag`
 * (`--admin-url`) when given, else `CRM_ADMIN_DATABASE_URL`; undefined when neither is set. Only that command reads
 * it (the service itself never connects as an admin), so it is not part of {@link loadConfig}.
 * @throws {ConfigError} naming the flag or the variable when the value is not a postgresql:// URL.
 */
export function loadCrmAdminUrl(env: Record<string, string | undefined>, flag?: string): string | undefined {
  const [name, raw] = flag !== undefined ? ['--admin-url', flag] : ['CRM_ADMIN_DATABASE_URL', env.CRM_ADMIN_DATABASE_URL?.trim() ? env.CRM_ADMIN_DATABASE_URL : undefined];
  if (raw === undefined) return undefined;
  const parsed = envSchema.shape.DATABASE_URL.safeParse(raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${name}: ${i.message}`));
  return parsed.data;
}

/**
 * The phone rules alone (`PHONE_DEFAULT_REGION`, `PHONE_FORMAT`, `CONTACT_MAX_NAME_LENGTH`), for tools that need
 * no other configuration (`npm run status` classifies phones: docs/REACHABILITY.md).
 * @throws ConfigError naming each bad variable.
 */
export function loadPhoneRules(env: Record<string, string | undefined>): {
  defaultRegion: string;
  phoneFormat: 'E164' | 'NATIONAL_DIGITS' | 'INTERNATIONAL';
  maxNameLength: number;
  maxEmailLength: number;
} {
  const schema = envSchema.pick({ PHONE_DEFAULT_REGION: true, PHONE_FORMAT: true, CONTACT_MAX_NAME_LENGTH: true });
  const blank = (v: string | undefined) => (v?.trim() ? v : undefined);
  const parsed = schema.safeParse({
    PHONE_DEFAULT_REGION: blank(env.PHONE_DEFAULT_REGION),
    PHONE_FORMAT: blank(env.PHONE_FORMAT),
    CONTACT_MAX_NAME_LENGTH: blank(env.CONTACT_MAX_NAME_LENGTH),
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return { defaultRegion: parsed.data.PHONE_DEFAULT_REGION, phoneFormat: parsed.data.PHONE_FORMAT, maxNameLength: parsed.data.CONTACT_MAX_NAME_LENGTH, maxEmailLength: 254 };
}

/** The variables the cross-variable rules read: parsed values, or the raw ones when the schema failed. */
type CrossEnv = Partial<
  Record<
    'CHEKT_CLIENT_ID' | 'CHEKT_CLIENT_SECRET' | 'CHEKT_PRIVATE_KEY_FILE' | 'CHEKT_KEY_ID' | 'CHEKT_AUDIENCE' | 'ADMIN_USER' | 'ADMIN_PASSWORD' | 'VIEWER_USER' | 'VIEWER_PASSWORD',
    string | undefined
  >
>;

/**
 * Shortest `ADMIN_PASSWORD` / `VIEWER_PASSWORD` `npm start` accepts, in characters (code points). HTTP Basic has
 * no lockout, so the password alone resists guessing; 12 follows OWASP ASVS 4.0.3 V2.1.1 ("at least 12 characters").
 */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * The viewer is optional but whole (both variables or neither) and distinct from the admin, so a user name
 * maps to one role. With `requireAdmin` (the HTTP service), passwords must be at least {@link MIN_PASSWORD_LENGTH}
 * characters.
 */
function checkHttpUsers(e: CrossEnv, problems: string[], requireLength: boolean): void {
  if (e.VIEWER_USER && !e.VIEWER_PASSWORD) problems.push('VIEWER_PASSWORD: required with VIEWER_USER');
  if (e.VIEWER_PASSWORD && !e.VIEWER_USER) problems.push('VIEWER_USER: required with VIEWER_PASSWORD');
  if (e.VIEWER_USER && e.VIEWER_USER === e.ADMIN_USER) problems.push('VIEWER_USER: must differ from ADMIN_USER');
  if (!requireLength) return;
  for (const name of ['ADMIN_PASSWORD', 'VIEWER_PASSWORD'] as const) {
    const value = e[name];
    if (value && [...value].length < MIN_PASSWORD_LENGTH) problems.push(`${name}: must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

/** Resolves the auth mode, pushing problems; returns undefined when any problem (or no client id) remains. */
function resolveAuth(e: CrossEnv, problems: string[], readFile: (path: string) => string): ChektAuthConfig | undefined {
  if (e.CHEKT_CLIENT_SECRET && e.CHEKT_PRIVATE_KEY_FILE) {
    problems.push('CHEKT_CLIENT_SECRET / CHEKT_PRIVATE_KEY_FILE: set one authentication mode, not both');
    return undefined;
  }
  if (e.CHEKT_CLIENT_SECRET) {
    return e.CHEKT_CLIENT_ID ? { mode: 'client_secret', clientId: e.CHEKT_CLIENT_ID, clientSecret: e.CHEKT_CLIENT_SECRET } : undefined;
  }
  if (!e.CHEKT_PRIVATE_KEY_FILE) {
    problems.push('CHEKT_CLIENT_SECRET: required (or CHEKT_PRIVATE_KEY_FILE with CHEKT_KEY_ID and CHEKT_AUDIENCE)');
    return undefined;
  }
  if (!e.CHEKT_KEY_ID) problems.push('CHEKT_KEY_ID: required with CHEKT_PRIVATE_KEY_FILE');
  if (!e.CHEKT_AUDIENCE) problems.push('CHEKT_AUDIENCE: required with CHEKT_PRIVATE_KEY_FILE');
  let privateKeyPem: string;
  try {
    privateKeyPem = readFile(e.CHEKT_PRIVATE_KEY_FILE);
  } catch (err) {
    problems.push(`CHEKT_PRIVATE_KEY_FILE: cannot read ${e.CHEKT_PRIVATE_KEY_FILE} (${(err as Error).message})`);
    return undefined;
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKeyPem)) {
    problems.push('CHEKT_PRIVATE_KEY_FILE: not a PEM private key (expected "-----BEGIN PRIVATE KEY-----")');
    return undefined;
  }
  if (!e.CHEKT_KEY_ID || !e.CHEKT_AUDIENCE || !e.CHEKT_CLIENT_ID) return undefined;
  return { mode: 'private_key_jwt', clientId: e.CHEKT_CLIENT_ID, privateKeyPem, keyId: e.CHEKT_KEY_ID, audience: e.CHEKT_AUDIENCE };
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
