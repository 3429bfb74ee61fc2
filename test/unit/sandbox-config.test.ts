import { loadSandboxConfig } from '../../src/sandbox/config.js';

const PEM = '-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----\n';

describe('loadSandboxConfig', () => {
  it('applies the documented defaults (auto-create on for the standalone server)', () => {
    const config = loadSandboxConfig({ PATH: '/usr/bin', SANDBOX_LATENCY_MS: '' });
    expect(config).toEqual({
      logLevel: 'info',
      options: {
        port: 4010,
        host: '127.0.0.1',
        clients: [{ clientId: 'sandbox-client', clientSecret: 'sandbox-secret' }],
        tokenTtlSeconds: 3600,
        rateLimitPerMinute: 0,
        autoCreateSites: true,
        sites: [],
        faults: { latencyMs: 0, errorRate: 0, dropAfterCommitRate: 0 },
        seed: 1,
      },
    });
    expect(Object.isFrozen(config.options)).toBe(true);
  });

  it('parses every variable', () => {
    const config = loadSandboxConfig(
      {
        SANDBOX_PORT: '0',
        SANDBOX_HOST: '0.0.0.0',
        SANDBOX_CLIENT_ID: 'partner-a',
        SANDBOX_CLIENT_SECRET: 's3cret',
        SANDBOX_PUBLIC_KEY_FILE: '/keys/a.pub',
        SANDBOX_TOKEN_TTL_SECONDS: '86400',
        SANDBOX_RATE_LIMIT_PER_MINUTE: '60',
        SANDBOX_RATE_LIMIT_BURST: '5',
        SANDBOX_AUTO_CREATE_SITES: 'false',
        SANDBOX_SITES: '12345/1, 12345/2,777/9',
        SANDBOX_LATENCY_MS: '25',
        SANDBOX_ERROR_RATE: '0.1',
        SANDBOX_DROP_AFTER_COMMIT_RATE: '0.05',
        SANDBOX_SEED: '42',
        SANDBOX_LOG_LEVEL: 'debug',
      },
      (path) => (path === '/keys/a.pub' ? PEM : ''),
    );
    expect(config).toEqual({
      logLevel: 'debug',
      options: {
        port: 0,
        host: '0.0.0.0',
        clients: [{ clientId: 'partner-a', clientSecret: 's3cret', publicKeyPem: PEM }],
        tokenTtlSeconds: 86400,
        rateLimitPerMinute: 60,
        rateLimitBurst: 5,
        autoCreateSites: false,
        sites: [
          { dealerId: '12345', siteId: '1' },
          { dealerId: '12345', siteId: '2' },
          { dealerId: '777', siteId: '9' },
        ],
        faults: { latencyMs: 25, errorRate: 0.1, dropAfterCommitRate: 0.05 },
        seed: 42,
      },
    });
  });

  it('names every bad variable in one error', () => {
    let message = '';
    try {
      loadSandboxConfig({
        SANDBOX_PORT: '70000',
        SANDBOX_ERROR_RATE: '2',
        SANDBOX_AUTO_CREATE_SITES: 'yes',
        SANDBOX_SITES: '12345',
        SANDBOX_RATE_LIMIT_BURST: '0',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid sandbox configuration:/);
    for (const name of ['SANDBOX_PORT', 'SANDBOX_ERROR_RATE', 'SANDBOX_AUTO_CREATE_SITES', 'SANDBOX_SITES', 'SANDBOX_RATE_LIMIT_BURST']) {
      expect(message).toContain(`- ${name}:`);
    }
  });

  it('refuses an unreadable or non-PEM public key file', () => {
    const missing = (): string => {
      throw new Error('ENOENT');
    };
    expect(() => loadSandboxConfig({ SANDBOX_PUBLIC_KEY_FILE: '/nope' }, missing)).toThrow('SANDBOX_PUBLIC_KEY_FILE: cannot read /nope (ENOENT)');
    expect(() => loadSandboxConfig({ SANDBOX_PUBLIC_KEY_FILE: '/k' }, () => 'hello')).toThrow('SANDBOX_PUBLIC_KEY_FILE: not a PEM SPKI public key');
  });
});

describe('loadSandboxConfig: clock and contact_id offsets', () => {
  it('reads SANDBOX_CLOCK_OFFSET_SECONDS as ms and SANDBOX_CONTACT_ID_OFFSET as digits; refuses bad values', () => {
    const c = loadSandboxConfig({ SANDBOX_CLOCK_OFFSET_SECONDS: '-10', SANDBOX_CONTACT_ID_OFFSET: '9007199254740992' });
    expect(c.options).toMatchObject({ clockOffsetMs: -10_000, contactIdOffset: '9007199254740992' });
    expect(() => loadSandboxConfig({ SANDBOX_CONTACT_ID_OFFSET: '1e20', SANDBOX_CLOCK_OFFSET_SECONDS: 'soon' })).toThrow(
      /SANDBOX_CLOCK_OFFSET_SECONDS[\s\S]*SANDBOX_CONTACT_ID_OFFSET|SANDBOX_CONTACT_ID_OFFSET[\s\S]*SANDBOX_CLOCK_OFFSET_SECONDS/,
    );
  });
});
