import { pino, type Logger, type DestinationStream } from 'pino';
import { createScrubber } from './scrub.js';

export type { Logger } from 'pino';

/**
 * Paths redacted from every log line. Operations log ids only, but a stray object (an error carrying a
 * request, a CHeKT response body) must never leak credentials or personal data. Full paths, never wildcards (docs/ARCHITECTURE.md#logs).
 */
export const REDACT_PATHS: readonly string[] = [
  'accessToken',
  'access_token',
  'token',
  'clientSecret',
  'client_secret',
  'client_assertion',
  'privateKeyPem',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'phone_number',
  'phoneNumber',
  'email',
  'first_name',
  'last_name',
  'firstName',
  'lastName',
  'body.phone_number',
  'body.email',
  'body.first_name',
  'body.last_name',
  'contact.phoneNumber',
  'contact.email',
  'contact.firstName',
  'contact.lastName',
  'err.response.body',
  'err.options',
  'err.request',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /**
   * Literal secrets scrubbed from every finished log line, whatever field or message holds them (scrub.ts;
   * pass `configSecrets(config)`). Credential shapes (`client_secret=…`, `Bearer …`, JWTs) are scrubbed even
   * without it. Default none.
   */
  readonly secrets?: ReadonlyArray<string | undefined>;
}

/**
 * Creates the one root pino logger (JSON to stdout). Children add `runId`, `jobId`, `dealerId`, `siteId`,
 * `externalContactId`, `traceId`. `destination` is for tests capturing output. Besides the redacted paths,
 * every serialised line goes through scrub.ts (docs/CHEKT-AUTH-AND-IDS.md, "What is scrubbed").
 */
export function createLogger(level: string, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const scrub = createScrubber(options.secrets);
  return pino(
    {
      level,
      base: { service: 'chekt-contact-sync' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: scrub },
    },
    destination,
  );
}
