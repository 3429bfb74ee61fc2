import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths redacted from every log line. Operations log ids only, but a stray object (an error carrying a
 * request, a CHeKT response body) must never leak credentials or personal data. Full paths, per STYLE.md.
 */
export const REDACT_PATHS: readonly string[] = [
  'accessToken', 'access_token', 'token', 'clientSecret', 'client_secret', 'client_assertion', 'privateKeyPem',
  'authorization', 'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'phone_number', 'phoneNumber', 'email', 'first_name', 'last_name', 'firstName', 'lastName',
  'body.phone_number', 'body.email', 'body.first_name', 'body.last_name',
  'contact.phoneNumber', 'contact.email', 'contact.firstName', 'contact.lastName',
  'err.response.body', 'err.options', 'err.request',
];

/**
 * Creates the one root pino logger (JSON to stdout). Children add `runId`, `jobId`, `dealerId`, `siteId`,
 * `externalContactId`, `traceId`. `destination` is for tests capturing output.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'chekt-contact-sync' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
