/**
 * Clock skew between this machine and CHeKT's token server (docs/CHEKT-AUTH-AND-IDS.md, "Clock skew").
 * A signed client assertion carries `iat`/`nbf`/`exp` from our clock; a server whose clock is behind ours
 * answers "issued in the future". The server's `Date` header (RFC 9110 §6.6.1, one-second resolution) tells
 * how far apart the clocks are. Pure: times are passed in.
 */

/** Below this, a difference is within `Date`'s resolution plus a network round trip: not reported. In ms. */
export const SKEW_REPORT_THRESHOLD_MS = 5_000;

/**
 * The server's clock minus ours, in ms, from the `Date` header of a response to a request sent at `sentAtMs`
 * and answered at `receivedAtMs` (both our clock; the server stamped the header somewhere in between, so the
 * midpoint is compared). `undefined` when the header is missing or unparsable.
 */
export function measureSkewMs(dateHeader: string | null | undefined, sentAtMs: number, receivedAtMs: number): number | undefined {
  if (!dateHeader) return undefined;
  const server = Date.parse(dateHeader);
  if (Number.isNaN(server)) return undefined;
  return server - (sentAtMs + receivedAtMs) / 2;
}

/** Whether a measured skew is large enough to report (and to correct assertions for). */
export function isReportableSkew(skewMs: number | undefined): skewMs is number {
  return skewMs !== undefined && Math.abs(skewMs) >= SKEW_REPORT_THRESHOLD_MS;
}

/** Words a token server uses when it refuses an assertion because of time (Auth0, RFC 7519 libraries). */
const TIME_COMPLAINT = /\b(future|not yet valid|nbf|iat|issued|clock|skew|expired|exp)\b/i;

/** Whether a token error's text blames time (e.g. "assertion iat is in the future"). */
export function looksLikeClockComplaint(text: string | undefined): boolean {
  return text !== undefined && TIME_COMPLAINT.test(text);
}

/**
 * One sentence for errors and logs, e.g. "this machine's clock is 12 s ahead of the token server's (its Date
 * header); fix the clock (NTP)". `skewMs` is the server's clock minus ours.
 */
export function describeSkew(skewMs: number): string {
  const s = Math.round(Math.abs(skewMs) / 1000);
  return `this machine's clock is ${s} s ${skewMs < 0 ? 'ahead of' : 'behind'} the token server's (its Date header); fix the clock (NTP)`;
}
