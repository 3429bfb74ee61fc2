/**
 * Credential scrubbing for every text that leaves the process: error messages, log lines, ledger rows, run
 * reports and the CLI's output (docs/CHEKT-AUTH-AND-IDS.md, "What is scrubbed"). A token endpoint or CHeKT may
 * echo what it was sent, in any shape (text/plain, JSON, a form, JSON nested in a string), so two rules apply:
 *
 * 1. Known secrets, as literals: the configured `CHEKT_CLIENT_SECRET` (and the HTTP passwords), and the signed
 *    client assertion of the request, in each encoding they may come back in (as is, URL/form-encoded,
 *    JSON-escaped). Values shorter than {@link MIN_LITERAL_LENGTH} are not scrubbed as literals: they would
 *    mangle ordinary words (config requires longer secrets in practice).
 * 2. Credential shapes, whatever their value: the value after `client_secret`, `client_assertion`,
 *    `access_token`, `refresh_token`, `id_token` or `password` (followed by `=`, `:` or their URL encodings, in
 *    quotes or not, escaped or not), a `Bearer`/`Basic` credential, and anything shaped like a JWT.
 *
 * This is not the core, but no library does rule 2 for free-form text (pino's redact works on object paths,
 * which logger.ts also uses); the rules are small and tested in test/unit/scrub.test.ts.
 */

import type { Config } from './config.js';

/** Replacement text for a scrubbed value. */
export const SCRUBBED = '[redacted]';
/** Literal secrets shorter than this are left to the shape rules. */
export const MIN_LITERAL_LENGTH = 6;

const KEYS = 'client_secret|client_assertion|access_token|refresh_token|id_token|password|secret';
/** `key` (quoted or not, quotes possibly backslash-escaped), a separator, then the value up to a delimiter. */
const KEY_VALUE = new RegExp(`((?:\\\\*["'])?\\b(?:${KEYS})\\b(?:\\\\*["'])?\\s*(?:=|:|%3D|%3A)\\s*(?:\\\\*["'])?)([^\\s"'\\\\&,;{}[\\]<>]+)`, 'gi');
/** `Bearer <token>` / `Basic <base64>` (RFC 6750 §2.1, RFC 7617), also after `Bearer%20`; 8 characters or more. */
const AUTH_SCHEME = /\b(Bearer|Basic)(\s+|%20|\+)([A-Za-z0-9\-._~+/]{8,}=*)/gi;
/** A compact JWS: base64url header starting `eyJ` (`{"`), payload, signature. */
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** Every encoding a literal secret may come back in, longest first. */
function encodings(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), new URLSearchParams({ x: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1)]);
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * A scrubber bound to the known secrets (rule 1) plus the shape rules (rule 2).
 * @param secrets literal values to remove; empty, undefined and short ones are ignored.
 */
export function createScrubber(secrets: ReadonlyArray<string | undefined> = []): (text: string) => string {
  const literals = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_LITERAL_LENGTH).flatMap(encodings))].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const l of literals) if (out.includes(l)) out = out.split(l).join(SCRUBBED);
    return scrubCredentialShapes(out);
  };
}

/** Rule 2 only (no known secrets): what can be removed from text without knowing any value. */
export function scrubCredentialShapes(text: string): string {
  return text
    .replace(JWT, SCRUBBED)
    .replace(AUTH_SCHEME, (_m, scheme: string, sep: string) => `${scheme}${sep}${SCRUBBED}`)
    .replace(KEY_VALUE, (_m, prefix: string) => `${prefix}${SCRUBBED}`);
}

/** The configured secrets rule 1 scrubs: `CHEKT_CLIENT_SECRET`, `ADMIN_PASSWORD`, `VIEWER_PASSWORD`. */
export function configSecrets(config: Pick<Config, 'chekt' | 'http'>): string[] {
  const out: string[] = [];
  if (config.chekt.auth.mode === 'client_secret') out.push(config.chekt.auth.clientSecret);
  for (const p of [config.http.adminPassword, config.http.viewerPassword]) if (p) out.push(p);
  return out;
}
