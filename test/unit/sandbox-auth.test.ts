import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/sandbox/assertion.js';
import { SANDBOX_SCOPE, createTokenService } from '../../src/sandbox/auth.js';

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

const NOW = Date.parse('2026-06-01T00:00:00.000Z');
let keys: Keys;
let otherKeys: Keys;
let publicKeyPem: string;

beforeAll(async () => {
  keys = await generateKeyPair('RS256', { extractable: true });
  otherKeys = await generateKeyPair('RS256', { extractable: true });
  publicKeyPem = await exportSPKI(keys.publicKey);
});

function service(now = (): number => NOW) {
  return createTokenService({
    clients: [{ clientId: 'secret-client', clientSecret: 's3cret' }, { clientId: 'key-client', publicKeyPem }, { clientId: 'unverified-client' }],
    ttlSeconds: 60,
    now,
  });
}

interface AssertionOverrides {
  iss?: string;
  sub?: string;
  expSeconds?: number;
  jti?: string;
  kid?: string | null;
  key?: Keys['privateKey'];
  omit?: Array<'aud' | 'iat' | 'jti'>;
}

async function assertion(o: AssertionOverrides = {}): Promise<string> {
  const iat = Math.floor(NOW / 1000);
  const claims: Record<string, unknown> = { aud: 'https://sandbox/', iat, jti: o.jti ?? `jti-${Math.random()}` };
  for (const k of o.omit ?? []) delete claims[k];
  const header = o.kid === null ? { alg: 'RS256' } : { alg: 'RS256', kid: o.kid ?? 'k1' };
  return new SignJWT(claims)
    .setProtectedHeader(header)
    .setIssuer(o.iss ?? 'key-client')
    .setSubject(o.sub ?? o.iss ?? 'key-client')
    .setExpirationTime(o.expSeconds ?? iat + 300)
    .sign(o.key ?? keys.privateKey);
}

const assertionForm = (a: string, extra: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  client_assertion: a,
  ...extra,
});

describe('TokenService', () => {
  it('issues an opaque Bearer token for client_secret and checks it until expiry', async () => {
    let now = NOW;
    const tokens = await service(() => now);
    const outcome = await tokens.issue({ grant_type: 'client_credentials', client_id: 'secret-client', client_secret: 's3cret' });
    if (!outcome.ok) throw new Error(outcome.description);
    expect(outcome.response).toEqual({
      access_token: expect.stringMatching(/^sbx_[A-Za-z0-9_-]{32}$/),
      token_type: 'Bearer',
      expires_in: 60,
      scope: SANDBOX_SCOPE,
    });
    const header = `Bearer ${outcome.response.access_token}`;
    expect(tokens.check(header)).toEqual({ ok: true, clientId: 'secret-client' });
    expect(tokens.check(`bearer   ${outcome.response.access_token}`)).toEqual({ ok: true, clientId: 'secret-client' });
    now += 59_999;
    expect(tokens.check(header).ok).toBe(true);
    now += 1;
    expect(tokens.check(header)).toEqual({ ok: false, reason: 'expired' });
    expect(tokens.check(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(tokens.check('Basic abc')).toEqual({ ok: false, reason: 'missing' });
    expect(tokens.check('Bearer nope')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('expireAll makes every issued token expired', async () => {
    const tokens = await service();
    const outcome = await tokens.issue({ grant_type: 'client_credentials', client_id: 'secret-client', client_secret: 's3cret' });
    if (!outcome.ok) throw new Error(outcome.description);
    tokens.expireAll();
    expect(tokens.check(`Bearer ${outcome.response.access_token}`)).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    [{}, 400, 'unsupported_grant_type'],
    [{ grant_type: 'password', client_id: 'secret-client', client_secret: 's3cret' }, 400, 'unsupported_grant_type'],
    [{ grant_type: 'client_credentials' }, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_id: 'secret-client', client_secret: 'wrong' }, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_id: 'key-client', client_secret: 's3cret' }, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 's3cret' }, 401, 'invalid_client'],
    [{ grant_type: 'client_credentials', client_assertion: 'x.y.z' }, 400, 'invalid_request'],
  ])('refuses %j with %i %s', async (form, status, error) => {
    const outcome = await (await service()).issue(form);
    expect(outcome).toMatchObject({ ok: false, status, error });
  });

  it('accepts a verified RS256 assertion without client_id, and refuses its replay', async () => {
    const tokens = await service();
    const a = await assertion({ jti: 'once' });
    expect(await tokens.issue(assertionForm(a, { audience: 'https://api/' }))).toMatchObject({ ok: true, clientId: 'key-client' });
    expect(await tokens.issue(assertionForm(a))).toMatchObject({ ok: false, status: 401, description: 'assertion jti already used' });
  });

  it.each<[string, AssertionOverrides | 'garbage', Record<string, string>]>([
    ['assertion signature does not verify', { key: 'other' as never }, {}],
    ['assertion expired', { expSeconds: Math.floor(NOW / 1000) - 1 }, {}],
    ['iss and sub must both equal client_id', { sub: 'someone-else' }, {}],
    ['iss and sub must both equal client_id', {}, { client_id: 'secret-client' }],
    ['assertion header has no kid', { kid: null }, {}],
    ['assertion claim jti', { omit: ['jti'] }, {}],
    ['unknown client', { iss: 'nobody' }, {}],
    ['unknown client', 'garbage', {}],
  ])('refuses with "%s" for %j', async (reason, overrides, extra) => {
    const tokens = await service();
    const a = overrides === 'garbage' ? 'not-a-jwt' : await assertion((overrides.key as unknown) === 'other' ? { ...overrides, key: otherKeys.privateKey } : overrides);
    const outcome = await tokens.issue(assertionForm(a, extra));
    expect(outcome).toMatchObject({ ok: false, status: 401, error: 'invalid_client' });
    expect(outcome.ok ? '' : outcome.description).toContain(reason);
  });

  it('only decodes assertions of a client with no public key, still requiring exp and iss = sub', async () => {
    const tokens = await service();
    const a = await assertion({ iss: 'unverified-client', key: otherKeys.privateKey });
    expect(await tokens.issue(assertionForm(a))).toMatchObject({ ok: true, clientId: 'unverified-client' });
    const late = await assertion({ iss: 'unverified-client', expSeconds: Math.floor(NOW / 1000) });
    expect(await tokens.issue(assertionForm(late))).toMatchObject({ ok: false, description: 'assertion expired' });
    const noAud = await assertion({ iss: 'unverified-client', omit: ['aud'] });
    expect(await tokens.issue(assertionForm(noAud))).toMatchObject({ ok: false, description: 'assertion has no aud claim' });
  });

  it('names the claimed known client for rate limiting', async () => {
    const tokens = await service();
    expect(tokens.claimedClientId({ client_id: 'secret-client' })).toBe('secret-client');
    expect(tokens.claimedClientId({ client_assertion: await assertion() })).toBe('key-client');
    expect(tokens.claimedClientId({ client_id: 'nobody' })).toBeUndefined();
    expect(tokens.claimedClientId({})).toBeUndefined();
  });

  it('refuses an unusable public key or duplicated client at construction', async () => {
    await expect(createTokenService({ clients: [{ clientId: 'a', publicKeyPem: 'nope' }], ttlSeconds: 1, now: Date.now })).rejects.toThrow('client a: publicKeyPem is not a PEM SPKI RSA public key');
    await expect(createTokenService({ clients: [{ clientId: 'a' }, { clientId: 'a' }], ttlSeconds: 1, now: Date.now })).rejects.toThrow('"a" is empty or duplicated');
  });
});
