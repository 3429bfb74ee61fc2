import { describe, expect, test } from '@jest/globals';
import { parseErrorBody } from '../../src/chekt/errorBody.js';
import { createScrubber, scrubCredentialShapes } from '../../src/scrub.js';

/** Credential scrubbing (docs/CHEKT-AUTH-AND-IDS.md#what-is-scrubbed): known secrets in any encoding, and credential shapes of any value. */

const SECRET = 'S3cr3t/val+ue&x=1';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJjIn0.c2lnbmF0dXJl';

describe('createScrubber', () => {
  const scrub = createScrubber([SECRET]);
  test.each([
    ['as is', `secret was ${SECRET} here`],
    ['URL-encoded', `got ${encodeURIComponent(SECRET)}`],
    ['form-encoded', new URLSearchParams({ client_secret: SECRET, client_id: 'c' }).toString()],
    ['JSON-escaped', JSON.stringify({ nested: { echo: JSON.stringify({ s: SECRET }) } })],
  ])('removes the configured secret %s', (_how, text) => {
    const out = scrub(text);
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(encodeURIComponent(SECRET));
    expect(out).toContain('[redacted]');
  });

  test('ignores empty and short literals (shape rules still apply)', () => {
    expect(createScrubber(['', undefined, 'abc'])('abc client_secret=zzzzzz')).toBe('abc client_secret=[redacted]');
  });
});

describe('scrubCredentialShapes', () => {
  test.each([
    ['form', 'grant_type=client_credentials&client_id=c&client_secret=other-secret&x=1', 'grant_type=client_credentials&client_id=c&client_secret=[redacted]&x=1'],
    ['JSON', '{"client_secret":"other-secret","client_id":"c"}', '{"client_secret":"[redacted]","client_id":"c"}'],
    ['escaped JSON in a string', String.raw`"{\"client_secret\":\"other-secret\"}"`, String.raw`"{\"client_secret\":\"[redacted]\"}"`],
    ['URL-encoded form in a form', 'body=client_secret%3Dother-secret%26a', 'body=client_secret%3D[redacted]'],
    [
      'an assertion',
      `client_assertion=${JWT}&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`,
      'client_assertion=[redacted]&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    ],
    ['a bare JWT', `token ${JWT} rejected`, 'token [redacted] rejected'],
    ['a bearer header', 'Authorization: Bearer sbx_abcdefghijklmnop', 'Authorization: Bearer [redacted]'],
    ['a password', 'password: hunter2hunter2', 'password: [redacted]'],
  ])('%s', (_shape, text, expected) => {
    expect(scrubCredentialShapes(text)).toBe(expected);
  });

  test('leaves ordinary error text alone', () => {
    for (const t of ['invalid_client: unknown client', 'client_secret is wrong', 'Bearer token expired', 'status 500 - upstream timeout']) {
      expect(scrubCredentialShapes(t)).toBe(t);
    }
  });
});

describe('parseErrorBody scrubs whatever the shape', () => {
  test.each([
    ['text/plain echo', `bad form: grant_type=client_credentials&client_secret=${SECRET}`],
    ['RFC 6749 JSON', JSON.stringify({ error: 'server_error', error_description: `echo client_secret=${SECRET}` })],
    ['nested JSON with no message', JSON.stringify({ request: { form: { client_secret: 'zz-other-zz', client_assertion: JWT } } })],
    ['envelope', JSON.stringify({ error: { code: 'x', message: `Authorization: Bearer ${JWT}` } })],
  ])('%s', (_shape, body) => {
    const parsed = parseErrorBody(body);
    const text = JSON.stringify(parsed);
    expect(text).not.toContain('zz-other-zz');
    expect(text).not.toContain(JWT);
    expect(text).not.toMatch(/client_secret=S3cr3t/);
  });
});
