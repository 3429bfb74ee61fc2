import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SandboxOptions } from './server.js';

/**
 * Settings of the standalone sandbox (`npm run sandbox`), parsed once from the environment by zod. Empty strings
 * count as unset. Only `main.ts` passes `process.env` here.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | SANDBOX_PORT | 4010 | TCP port (0 = random) |
 * | SANDBOX_HOST | 127.0.0.1 | bind address |
 * | SANDBOX_CLIENT_ID / SANDBOX_CLIENT_SECRET | sandbox-client / sandbox-secret | the one OAuth client |
 * | SANDBOX_PUBLIC_KEY_FILE | — | PEM SPKI public key: client_assertion JWTs are then verified |
 * | SANDBOX_TOKEN_TTL_SECONDS | 3600 | `expires_in` of issued tokens |
 * | SANDBOX_RATE_LIMIT_PER_MINUTE | 0 | per-client limit, 0 = unlimited |
 * | SANDBOX_RATE_LIMIT_BURST | max(1, round(perMinute/12)) | bucket size |
 * | SANDBOX_AUTO_CREATE_SITES | true | unknown dealer/site registered on first use (false → 404) |
 * | SANDBOX_SITES | — | known sites, `dealer/site,dealer/site` |
 * | SANDBOX_LATENCY_MS, SANDBOX_ERROR_RATE, SANDBOX_DROP_AFTER_COMMIT_RATE | 0 | faults |
 * | SANDBOX_SEED | 1 | fault PRNG seed |
 * | SANDBOX_CLOCK_OFFSET_SECONDS | 0 | the sandbox's clock minus the real one (token checks, `Date`); negative = slow |
 * | SANDBOX_CONTACT_ID_OFFSET | 0 | decimal digits added to every `contact_id` (e.g. 9007199254740992) |
 * | SANDBOX_LOG_LEVEL | info | pino level |
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const rate = z.coerce.number().min(0).max(1);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const site = z.string().regex(/^[^/\s,]+\/[^/\s,]+$/, 'each entry must be "dealerId/siteId"');

const envSchema = z.object({
  SANDBOX_PORT: int(0, 65_535).default(4010),
  SANDBOX_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SANDBOX_CLIENT_ID: z.string().trim().min(1).default('sandbox-client'),
  SANDBOX_CLIENT_SECRET: z.string().min(1).default('sandbox-secret'),
  SANDBOX_PUBLIC_KEY_FILE: z.string().trim().min(1).optional(),
  SANDBOX_TOKEN_TTL_SECONDS: int(1, 31_536_000).default(3600),
  SANDBOX_RATE_LIMIT_PER_MINUTE: int(0, 10_000_000).default(0),
  SANDBOX_RATE_LIMIT_BURST: int(1, 10_000_000).optional(),
  SANDBOX_AUTO_CREATE_SITES: bool.default(true),
  SANDBOX_SITES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(site))
    .optional(),
  SANDBOX_LATENCY_MS: int(0, 600_000).default(0),
  SANDBOX_ERROR_RATE: rate.default(0),
  SANDBOX_DROP_AFTER_COMMIT_RATE: rate.default(0),
  SANDBOX_SEED: int(0, 4_294_967_295).default(1),
  SANDBOX_CLOCK_OFFSET_SECONDS: z.coerce.number().int().min(-86_400).max(86_400).optional(),
  SANDBOX_CONTACT_ID_OFFSET: z
    .string()
    .trim()
    .regex(/^[0-9]{1,25}$/, 'must be decimal digits')
    .optional(),
  SANDBOX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The parsed standalone settings: options for `startSandbox` (logger excluded) plus the log level. */
export interface SandboxConfig {
  readonly options: Readonly<Omit<SandboxOptions, 'logger'>>;
  readonly logLevel: z.infer<typeof envSchema>['SANDBOX_LOG_LEVEL'];
}

/**
 * Parses the sandbox settings from `env` (normally `process.env`).
 * `readFile` reads SANDBOX_PUBLIC_KEY_FILE; replaceable in tests.
 * @throws {Error} whose message names every bad variable, one per line.
 */
export function loadSandboxConfig(env: Record<string, string | undefined>, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): SandboxConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('SANDBOX_') && v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw configError(parsed.error.issues.map((i) => `${String(i.path[0] ?? '(env)')}: ${i.message}`));
  }
  const e = parsed.data;
  let publicKeyPem: string | undefined;
  if (e.SANDBOX_PUBLIC_KEY_FILE !== undefined) {
    try {
      publicKeyPem = readFile(e.SANDBOX_PUBLIC_KEY_FILE);
    } catch (err) {
      throw configError([`SANDBOX_PUBLIC_KEY_FILE: cannot read ${e.SANDBOX_PUBLIC_KEY_FILE} (${(err as Error).message})`]);
    }
    if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----')) {
      throw configError(['SANDBOX_PUBLIC_KEY_FILE: not a PEM SPKI public key (expected "-----BEGIN PUBLIC KEY-----")']);
    }
  }
  const options: Omit<SandboxOptions, 'logger'> = {
    port: e.SANDBOX_PORT,
    host: e.SANDBOX_HOST,
    clients: [
      {
        clientId: e.SANDBOX_CLIENT_ID,
        clientSecret: e.SANDBOX_CLIENT_SECRET,
        ...(publicKeyPem === undefined ? {} : { publicKeyPem }),
      },
    ],
    tokenTtlSeconds: e.SANDBOX_TOKEN_TTL_SECONDS,
    rateLimitPerMinute: e.SANDBOX_RATE_LIMIT_PER_MINUTE,
    ...(e.SANDBOX_RATE_LIMIT_BURST === undefined ? {} : { rateLimitBurst: e.SANDBOX_RATE_LIMIT_BURST }),
    autoCreateSites: e.SANDBOX_AUTO_CREATE_SITES,
    sites: (e.SANDBOX_SITES ?? []).map(parseSite),
    faults: {
      latencyMs: e.SANDBOX_LATENCY_MS,
      errorRate: e.SANDBOX_ERROR_RATE,
      dropAfterCommitRate: e.SANDBOX_DROP_AFTER_COMMIT_RATE,
    },
    seed: e.SANDBOX_SEED,
    ...(e.SANDBOX_CLOCK_OFFSET_SECONDS === undefined ? {} : { clockOffsetMs: e.SANDBOX_CLOCK_OFFSET_SECONDS * 1000 }),
    ...(e.SANDBOX_CONTACT_ID_OFFSET === undefined ? {} : { contactIdOffset: e.SANDBOX_CONTACT_ID_OFFSET }),
  };
  return deepFreeze({ options, logLevel: e.SANDBOX_LOG_LEVEL });
}

function parseSite(entry: string): { dealerId: string; siteId: string } {
  const [dealerId = '', siteId = ''] = entry.split('/');
  return { dealerId, siteId };
}

function configError(problems: string[]): Error {
  return new Error(`Invalid sandbox configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
